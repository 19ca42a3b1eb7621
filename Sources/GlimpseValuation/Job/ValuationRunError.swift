import GlimpseCore

/// Why a valuation refused its input.
public enum ValuationRunError: GlimpseError, Equatable {
  /// KNN-Shapley refused the data (k, an empty validation set, widths, non-finite features).
  case knnShapley(KNNShapleyError)
  /// Exact enumeration refused the job (too many points).
  case exact(ValuationError)

  /// What is wrong, in one line.
  public var description: String {
    switch self {
    case .knnShapley(let error): error.description
    case .exact(let error): error.description
    }
  }
}

import GlimpseCore

/// Why `KNNShapley.values` refused its input.
public enum KNNShapleyError: GlimpseError, Equatable {
  /// k must be at least 1.
  case invalidK(Int)
  /// The utility averages over validation points; there must be at least one.
  case emptyValidation
  /// Training and validation rows have different numbers of features.
  case featureCountMismatch(training: Int, validation: Int)
  /// A feature is NaN or infinite (`set` is "training" or "validation"; `row` 0-based).
  case nonFiniteFeature(set: String, row: Int)

  /// What is wrong, in one line.
  public var description: String {
    switch self {
    case .invalidK(let k): "k-NN Shapley needs k ≥ 1 (got \(k))"
    case .emptyValidation: "k-NN Shapley needs at least one validation point"
    case .featureCountMismatch(let training, let validation):
      "training rows have \(training) features, validation rows \(validation)"
    case .nonFiniteFeature(let set, let row): "\(set) row \(row) has a feature that is not finite"
    }
  }
}

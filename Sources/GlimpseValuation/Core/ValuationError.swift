import GlimpseCore

/// Why a valuation cannot run or combine.
public enum ValuationError: GlimpseError, Equatable {
  /// Checkpoints or shards of different jobs, or overlapping shards.
  case mismatchedStates(String)
  /// A setting out of range (too many points for enumeration, k < 1, …).
  case invalidSetting(String)

  /// What is wrong, in one line.
  public var description: String {
    switch self {
    case .mismatchedStates(let why): return "cannot combine valuation states: \(why)"
    case .invalidSetting(let why): return "invalid valuation setting: \(why)"
    }
  }
}

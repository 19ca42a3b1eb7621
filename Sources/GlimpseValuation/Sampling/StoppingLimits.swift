/// The limits a user sets on a sampled valuation; any that is reached stops it.
public struct StoppingLimits: Sendable, Equatable {
  /// At most this many samples (permutations or subsets).
  public var samples: Int?
  /// Stop once every point's standard error is at most this (after 5 samples each).
  public var maxStandardError: Double?
  /// Stop once the Spearman correlation of values 20 samples apart reaches 1 − this.
  public var rankTolerance: Double?
  /// Stop after this many seconds of work on the job, counting resumed runs.
  public var seconds: Double?

  /// Limits; none set means the method's default budget.
  public init(
    samples: Int? = nil, maxStandardError: Double? = nil, rankTolerance: Double? = nil,
    seconds: Double? = nil
  ) {
    self.samples = samples
    self.maxStandardError = maxStandardError
    self.rankTolerance = rankTolerance
    self.seconds = seconds
  }
}

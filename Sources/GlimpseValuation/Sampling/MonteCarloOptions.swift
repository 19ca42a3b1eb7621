import GlimpseCore

/// A snapshot of a running valuation, for progress bars.
public struct MonteCarloProgress: Sendable {
  /// Samples done (this shard, all runs).
  public var samples: Int
  /// Samples this shard will do under the budget, when the stopping rule has one.
  public var sampleBudget: Int?
  public var elapsedSeconds: Double
  /// Samples per second in this run.
  public var rate: Double
  /// The largest standard error over points (infinite until every point has two samples).
  public var largestStandardError: Double
  /// The fraction of the budget or time limit used, whichever is further along.
  public var fractionDone: Double?
}

/// Settings of a Monte Carlo run.
public struct MonteCarloOptions: Sendable {
  public var stopping: StoppingRule
  /// Worker threads; each computes whole samples. Cap BLAS at one thread when this is above 1.
  public var threads: Int
  public var shard: Shard
  /// Seconds between checkpoints handed to the `checkpoint` closure.
  public var checkpointInterval: Double
  /// Seconds between progress reports.
  public var progressInterval: Double

  public init(
    stopping: StoppingRule, threads: Int = Parallelism.threadCount, shard: Shard = .whole,
    checkpointInterval: Double = 5, progressInterval: Double = 0.25
  ) {
    self.stopping = stopping
    self.threads = max(1, threads)
    self.shard = shard
    self.checkpointInterval = checkpointInterval
    self.progressInterval = progressInterval
  }
}

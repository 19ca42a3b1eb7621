import GlimpseCore

/// A snapshot of a running valuation, for progress bars.
public struct MonteCarloProgress: Sendable {
  /// Samples done (this shard, all runs).
  public var samples: Int
  /// Samples this shard will do under the budget, when the stopping rule has one.
  public var sampleBudget: Int?
  /// Seconds of work on the job, counting earlier runs of a resumed one.
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
  /// When to stop (a budget, a standard error, rank stability, a time limit, or combinations).
  public var stopping: StoppingRule
  /// Worker threads; each computes whole samples. Cap BLAS at one thread when this is above 1.
  public var threads: Int
  /// Which sample indices this process computes.
  public var shard: Shard
  /// Seconds between checkpoints handed to the `checkpoint` closure.
  public var checkpointInterval: Double
  /// Seconds between progress reports.
  public var progressInterval: Double

  /// Settings; `threads` is raised to at least 1.
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

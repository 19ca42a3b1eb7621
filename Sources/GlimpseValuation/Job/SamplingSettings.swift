import GlimpseCore

/// How a sampled valuation is spread over threads and shards and how often it is saved.
public struct SamplingSettings: Sendable, Equatable {
  /// The limits that stop it (none: the method's default budget).
  public var limits: StoppingLimits
  /// Worker threads; each computes whole samples.
  public var threads: Int
  /// Which samples this process computes.
  public var shard: Shard
  /// Seconds between checkpoints handed to the run's `checkpoint` closure.
  public var checkpointInterval: Double

  /// Settings; the defaults sample everything on every core and save every 5 s.
  public init(
    limits: StoppingLimits = StoppingLimits(), threads: Int = Parallelism.threadCount,
    shard: Shard = .whole, checkpointInterval: Double = 5
  ) {
    self.limits = limits
    self.threads = threads
    self.shard = shard
    self.checkpointInterval = checkpointInterval
  }
}

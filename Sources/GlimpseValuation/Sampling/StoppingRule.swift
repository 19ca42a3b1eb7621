import GlimpseCore

/// When a Monte Carlo valuation stops. Rules combine with `||` (either) and `&&` (both).
///
/// pyDVL's stopping criteria, as values: a budget of samples, a largest standard error, rank
/// stability of the values between checks, and a wall-clock limit.
public indirect enum StoppingRule: Sendable, Equatable, Codable {
  /// After this many samples (permutations or subsets) in all, over every shard.
  case maxSamples(Int)
  /// When every point has at least `minimumSamples` samples and a standard error at most
  /// `threshold` (pyDVL's `AbsoluteStandardError`, with the `fraction` 1).
  case standardError(threshold: Double, minimumSamples: Int)
  /// When the Spearman correlation of the values with those `every` samples earlier reaches
  /// `1 − tolerance` (pyDVL's `RankCorrelation(rtol, burn_in)`; the first check is after
  /// `2·every` samples).
  case rankStability(tolerance: Double, every: Int)
  /// After this many seconds of work, counting earlier runs of a resumed job.
  case wallClock(seconds: Double)
  case either(StoppingRule, StoppingRule)
  case both(StoppingRule, StoppingRule)

  /// Stops when either rule stops (the status of the one that fired).
  public static func || (lhs: StoppingRule, rhs: StoppingRule) -> StoppingRule { .either(lhs, rhs) }
  /// Stops when both rules stop.
  public static func && (lhs: StoppingRule, rhs: StoppingRule) -> StoppingRule { .both(lhs, rhs) }

  /// The largest sample index the rule can ever need, when it bounds the samples: workers
  /// never start a sample at or past it, so a budget gives the same samples on any number of
  /// threads or shards.
  public var sampleLimit: Int? {
    switch self {
    case .maxSamples(let count): return count
    case .standardError, .rankStability, .wallClock: return nil
    case .either(let a, let b):
      switch (a.sampleLimit, b.sampleLimit) {
      case (let x?, let y?): return min(x, y)
      case (let x?, nil), (nil, let x?): return x
      case (nil, nil): return nil
      }
    case .both(let a, let b):
      guard let x = a.sampleLimit, let y = b.sampleLimit else { return nil }
      return max(x, y)
    }
  }

  /// Whether the rule stops after `elapsed` seconds whatever the samples say. A running sample
  /// polls this (through `MonteCarloRunner.sampleShouldStop`) between model fits, so that a
  /// time limit cuts a long permutation short instead of waiting for it to end.
  func stopsOnTime(afterSeconds elapsed: Double) -> Bool {
    switch self {
    case .wallClock(let seconds): return elapsed >= seconds
    case .maxSamples, .standardError, .rankStability: return false
    case .either(let a, let b):
      return a.stopsOnTime(afterSeconds: elapsed) || b.stopsOnTime(afterSeconds: elapsed)
    case .both(let a, let b):
      return a.stopsOnTime(afterSeconds: elapsed) && b.stopsOnTime(afterSeconds: elapsed)
    }
  }

  /// Whether checking the rule reads the running estimates (values, standard errors, counts).
  /// Budget rules read only the sample count and the clock, so the runner skips computing the
  /// estimates after every sample for them (an O(points) pass under the shared lock: 7 % of a
  /// Data-OOB bag's time on 1000 points).
  var readsEstimates: Bool {
    switch self {
    case .maxSamples, .wallClock: return false
    case .standardError, .rankStability: return true
    case .either(let a, let b), .both(let a, let b): return a.readsEstimates || b.readsEstimates
    }
  }

  /// Whether the rule only counts samples or time (its stop is a budget, not convergence).
  var isBudget: Bool {
    switch self {
    case .maxSamples, .wallClock: return true
    case .standardError, .rankStability: return false
    case .either(let a, let b), .both(let a, let b): return a.isBudget && b.isBudget
    }
  }
}

/// What a stopping rule looks at.
public struct StoppingSnapshot: Sendable {
  /// Samples done so far (this shard's and merged ones).
  public var samples: Int
  /// Seconds of work so far, counting resumed runs.
  public var elapsedSeconds: Double
  /// The current estimates, one per point.
  public var values: [Double]
  /// Their standard errors (infinite below two samples).
  public var standardErrors: [Double]
  /// Samples per point.
  public var counts: [Int]
}

/// A stopping rule with the memory some rules need (rank stability's previous values).
public struct StoppingMonitor: Sendable {
  /// The rule it checks.
  public let rule: StoppingRule
  /// Values at the last rank-stability check, per rule node (pre-order position).
  var previous: [Int: (samples: Int, values: [Double])] = [:]

  /// A monitor of `rule` with no memory yet.
  public init(_ rule: StoppingRule) { self.rule = rule }

  /// Whether to stop, and if so the status to report.
  public mutating func check(_ snapshot: StoppingSnapshot) -> ValuationStatus? {
    var node = 0
    guard let reason = evaluate(rule, snapshot, &node) else { return nil }
    return reason
  }

  private mutating func evaluate(
    _ rule: StoppingRule, _ snapshot: StoppingSnapshot, _ node: inout Int
  ) -> ValuationStatus? {
    let id = node
    node += 1
    switch rule {
    case .maxSamples(let count):
      return snapshot.samples >= count ? .budgetExhausted : nil
    case .wallClock(let seconds):
      return snapshot.elapsedSeconds >= seconds ? .timeLimit : nil
    case .standardError(let threshold, let minimumSamples):
      guard snapshot.counts.allSatisfy({ $0 >= minimumSamples }) else { return nil }
      return snapshot.standardErrors.allSatisfy { $0 <= threshold } ? .converged : nil
    case .rankStability(let tolerance, let every):
      let every = max(1, every)
      guard let last = previous[id] else {
        if snapshot.samples >= every { previous[id] = (snapshot.samples, snapshot.values) }
        return nil
      }
      guard snapshot.samples >= last.samples + every else { return nil }
      // A constant vector (all values still 0) has no ranking: treat two equal ones as stable.
      let correlation =
        last.values == snapshot.values ? 1 : RankCorrelation.spearman(last.values, snapshot.values)
      previous[id] = (snapshot.samples, snapshot.values)
      return correlation >= 1 - tolerance ? .converged : nil
    case .either(let a, let b):
      let first = evaluate(a, snapshot, &node)
      let second = evaluate(b, snapshot, &node)
      return first ?? second
    case .both(let a, let b):
      let first = evaluate(a, snapshot, &node)
      let second = evaluate(b, snapshot, &node)
      guard let first, let second else { return nil }
      return first == .converged || second == .converged ? .converged : first
    }
  }
}

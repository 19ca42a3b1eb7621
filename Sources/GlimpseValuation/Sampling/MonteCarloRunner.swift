import Dispatch
import GlimpseCore
import Synchronization

/// Runs sample indices on worker threads until the stopping rule says stop.
///
/// Workers take the next index this shard owns that is not already done, compute its updates,
/// and add them under a lock. Sums are order-independent (`FixedPointSum`), so a budgeted run
/// gives bit-identical values on any number of threads, over any shards, and across resumes.
///
/// A wall-clock limit stops the run within one utility evaluation: a sample that polls
/// `sampleShouldStop` between model fits (a permutation walk) gives up once the time is
/// spent, and its partial updates are dropped rather than added (a prefix of a permutation
/// would bias the means towards early positions). Its index stays undone, so a resumed run
/// computes it whole. Without this, a permutation of a slow model (hundreds of fits) ran to its
/// end, far past `--seconds`.
public enum MonteCarloRunner {
  /// The time limit of the sample the current thread is computing (bound by `run`).
  @TaskLocal static var deadline: SampleDeadline?

  /// Whether the sample being computed should give up now because the run's time limit has
  /// passed; `false` outside `run` (a sample function called directly never stops). A sample
  /// that sees `true` may return anything: the runner drops its updates.
  public static var sampleShouldStop: Bool { deadline?.expired() ?? false }

  /// - Parameters:
  ///   - state: Where to start: a fresh state, or a checkpoint to resume.
  ///   - sample: The updates of sample index `j`; called concurrently from worker threads.
  ///   - checkpoint: Called with a consistent copy of the state every `checkpointInterval`
  ///     seconds and once at the end.
  ///   - progress: Called every `progressInterval` seconds.
  /// - Returns: The final state; its `status` says why it stopped.
  public static func run(
    from state: MonteCarloState, options: MonteCarloOptions,
    sample: @escaping @Sendable (Int) -> [SampleUpdate],
    checkpoint: @escaping @Sendable (MonteCarloState) -> Void = { _ in },
    progress: @escaping @Sendable (MonteCarloProgress) -> Void = { _ in }
  ) -> MonteCarloState {
    let limit = options.stopping.sampleLimit
    let budget = limit.map { options.shard.ownedCount(below: $0) }
    let timeLimit = options.stopping.timeLimit
    let started = monotonicSeconds()
    let startSamples = state.completed.count
    let baseElapsed = state.elapsedSeconds

    struct Shared: Sendable {
      var state: MonteCarloState
      var monitor: StoppingMonitor
      var next = 0
      var lastCheckpoint: Double
      var lastProgress: Double
    }
    var initial = state
    initial.status = nil
    let shared = Mutex(
      Shared(
        state: initial, monitor: StoppingMonitor(options.stopping), lastCheckpoint: started,
        lastProgress: started))

    @Sendable func report(_ s: inout Shared, now: Double) -> MonteCarloProgress {
      let done = s.state.completed.count
      let elapsed = baseElapsed + now - started
      var fraction: Double?
      if let budget, budget > 0 { fraction = Double(done) / Double(budget) }
      if let timeLimit, timeLimit > 0 { fraction = max(fraction ?? 0, elapsed / timeLimit) }
      return MonteCarloProgress(
        samples: done, sampleBudget: budget, elapsedSeconds: elapsed,
        rate: Double(done - startSamples) / max(now - started, 1e-9),
        largestStandardError: s.state.accumulator.standardErrors.max() ?? 0,
        fractionDone: fraction.map { min(1, $0) })
    }

    // A stop may already hold (a resumed job that had finished).
    let stopped = shared.withLock { s in
      s.monitor.check(snapshot(s.state, elapsed: baseElapsed, rule: options.stopping))
    }
    if let status = stopped {
      var finished = state
      finished.status = status
      return finished
    }

    // `forkJoin`, so that forks inside a sample (the utility's model fits) know they run beside
    // the other workers and stay on their thread.
    forkJoin(parts: options.threads) { _ in
      while true {
        let index: Int? = shared.withLock { s in
          guard s.state.status == nil else { return nil }
          // The time may be up though no sample has ended since (all were long).
          if options.stopping.stopsOnTime(afterSeconds: baseElapsed + monotonicSeconds() - started)
          {
            s.state.status = .timeLimit
            return nil
          }
          // The next owned index not done yet, jumping over whole done ranges and other shards'
          // indices: a resumed state may have done any number of them.
          while true {
            let candidate = options.shard.firstOwned(from: s.next)
            if let limit, candidate >= limit { return nil }
            if let done = s.state.completed.range(containing: candidate) {
              s.next = done.upperBound
              continue
            }
            s.next = candidate + 1
            return candidate
          }
        }
        guard let index else { return }
        let deadline = SampleDeadline(rule: options.stopping, origin: started - baseElapsed)
        let updates = MonteCarloRunner.$deadline.withValue(deadline) { sample(index) }
        let abandoned = deadline.wasExpired
        let (toCheckpoint, toReport): (MonteCarloState?, MonteCarloProgress?) = shared.withLock {
          s in
          let now = monotonicSeconds()
          s.state.elapsedSeconds = baseElapsed + now - started
          if abandoned {
            // Cut short by the time limit: nothing of it is kept, and the run is over.
            if s.state.status == nil { s.state.status = .timeLimit }
          } else {
            for update in updates {
              s.state.accumulator.add(update.value, to: update.point, channel: update.channel)
            }
            s.state.completed.insert(index)
            if s.state.status == nil,
              let status = s.monitor.check(
                snapshot(s.state, elapsed: s.state.elapsedSeconds, rule: options.stopping))
            {
              s.state.status = status
            }
          }
          var saved: MonteCarloState?
          if now - s.lastCheckpoint >= options.checkpointInterval {
            s.lastCheckpoint = now
            saved = s.state
          }
          var reported: MonteCarloProgress?
          if now - s.lastProgress >= options.progressInterval {
            s.lastProgress = now
            reported = report(&s, now: now)
          }
          return (saved, reported)
        }
        if let toCheckpoint { checkpoint(toCheckpoint) }
        if let toReport { progress(toReport) }
      }
    }
    let (final, finalReport) = shared.withLock { s in
      let now = monotonicSeconds()
      s.state.elapsedSeconds = baseElapsed + now - started
      // Workers ran out of indices: the budget (or this shard's share of it) is spent.
      if s.state.status == nil { s.state.status = .budgetExhausted }
      return (s.state, report(&s, now: now))
    }
    progress(finalReport)
    checkpoint(final)
    return final
  }

  /// What `rule` needs to decide: the estimates only when it reads them (empty otherwise).
  static func snapshot(_ state: MonteCarloState, elapsed: Double, rule: StoppingRule)
    -> StoppingSnapshot
  {
    guard rule.readsEstimates else {
      return StoppingSnapshot(
        samples: state.completed.count, elapsedSeconds: elapsed, values: [], standardErrors: [],
        counts: [])
    }
    return StoppingSnapshot(
      samples: state.completed.count, elapsedSeconds: elapsed, values: state.accumulator.values,
      standardErrors: state.accumulator.standardErrors, counts: state.accumulator.counts)
  }
}

/// One sample's view of the run's time limit; remembers whether the sample was told to stop.
final class SampleDeadline: Sendable {
  let rule: StoppingRule
  /// The monotonic time at which the job's elapsed seconds were 0 (earlier runs included).
  let origin: Double
  private let told = Atomic<Bool>(false)

  init(rule: StoppingRule, origin: Double) {
    self.rule = rule
    self.origin = origin
  }

  /// Whether the time is up; once it has said so, the sample counts as abandoned.
  func expired() -> Bool {
    guard rule.stopsOnTime(afterSeconds: monotonicSeconds() - origin) else { return false }
    told.store(true, ordering: .relaxed)
    return true
  }

  /// Whether the sample was told to stop.
  var wasExpired: Bool { told.load(ordering: .relaxed) }
}

extension StoppingRule {
  /// The wall-clock limit in seconds, when the rule has one (for progress and ETA).
  var timeLimit: Double? {
    switch self {
    case .wallClock(let seconds): return seconds
    case .maxSamples, .standardError, .rankStability: return nil
    case .either(let a, let b):
      switch (a.timeLimit, b.timeLimit) {
      case (let x?, let y?): return min(x, y)
      case (let x?, nil), (nil, let x?): return x
      case (nil, nil): return nil
      }
    case .both(let a, let b):
      guard let x = a.timeLimit, let y = b.timeLimit else { return nil }
      return max(x, y)
    }
  }
}

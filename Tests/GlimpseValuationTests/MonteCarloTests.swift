import GlimpseCore
import Synchronization
import Testing

@testable import GlimpseValuation

/// Monte Carlo methods against exact enumeration, and the runner's determinism guarantees.
@Suite("Monte Carlo semivalues against exact enumeration, and the runner’s determinism")
struct MonteCarloTests {
  /// A non-additive 8-player game: a concave "coverage" term plus a pair interaction.
  static let game = GameUtility(playerCount: 8) { subset in
    let weights = [0.9, 0.1, 0.4, 0.4, 0.25, 0.7, 0.05, 0.3]
    let covered = subset.reduce(0.0) { $0 + weights[$1] }
    let pair = subset.contains(2) && subset.contains(5) ? 0.3 : 0
    return covered.squareRoot() + pair - (subset.contains(7) ? 0.1 : 0)
  }

  /// TMC-Shapley without truncation is plain permutation sampling, an unbiased estimator:
  /// every point lies within 4 standard errors of the exact Shapley value.
  @Test(
    "TMC without truncation matches exact Shapley within 4 standard errors after 3000 permutations")
  func permutationShapleyConvergesToExactWithinFourStandardErrors() throws {
    let exact = try ExactSemivalues.values(Self.game, kind: .shapley)
    let method = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 5)
    let (result, _) = method.run(Self.game, options: MonteCarloOptions(stopping: .maxSamples(3000)))
    #expect(result.totalSamples == 3000)
    #expect(result.status == .budgetExhausted)
    for i in 0..<8 {
      #expect(result.sampleCounts[i] == 3000)
      #expect(abs(result.values[i] - exact.values[i]) <= 4 * result.standardErrors[i])
      #expect(result.standardErrors[i] < 0.01)
    }
  }

  /// Each permutation's marginals telescope to U(D) − U(∅), so the estimate is efficient too.
  @Test("permutation Shapley estimates are efficient: they sum to U(D) − U(∅) within 1e-12")
  func permutationEstimateSumsToTotalUtility() {
    let (result, _) = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 1).run(
      Self.game, options: MonteCarloOptions(stopping: .maxSamples(50)))
    let total = Self.game.value(of: Array(0..<8)) - Self.game.value(of: [])
    #expect(abs(result.values.reduce(0, +) - total) < 1e-12)
  }

  /// Truncation stops a permutation once U is within tolerance of U(D): on a game that
  /// saturates after any two players, later points get exactly 0 and the early ones share U(D).
  @Test(
    "truncation gives exactly 0 to the points after a permutation saturates; the first two share U(D)"
  )
  func truncationZeroesTheTailOfEachPermutation() {
    let saturating = GameUtility(playerCount: 6) { Double(min($0.count, 2)) / 2 }
    let method = TruncatedMonteCarloShapley(truncationTolerance: 0.01, burnInFraction: 0, seed: 2)
    let updates = method.marginals(saturating, totalUtility: 1)(0)
    #expect(updates.count == 6)
    #expect(updates.prefix(2).map(\.value) == [0.5, 0.5])
    #expect(updates.dropFirst(2).allSatisfy { $0.value == 0 })
  }

  /// Maximum-sample-reuse Banzhaf converges to exact Banzhaf values.
  @Test(
    "maximum-sample-reuse Banzhaf matches exact Banzhaf within 4 standard errors after 6000 samples"
  )
  func maximumSampleReuseConvergesToExactBanzhaf() throws {
    let exact = try ExactSemivalues.values(Self.game, kind: .banzhaf)
    let (result, _) = MaximumSampleReuseBanzhaf(seed: 9).run(
      Self.game, options: MonteCarloOptions(stopping: .maxSamples(6000)))
    for i in 0..<8 {
      #expect(abs(result.values[i] - exact.values[i]) <= 4 * result.standardErrors[i])
      #expect(result.standardErrors[i] < 0.02)
    }
  }

  /// A budget gives bit-identical values on 1 or 2 threads, over 3 merged shards, and when a
  /// run stopped early (a kill after its last checkpoint) is resumed.
  @Test(
    "a budgeted run gives the same bits on 1 or 2 threads, over 3 merged shards, and when resumed")
  func budgetedRunsAreIdenticalAcrossThreadsShardsAndResumes() throws {
    let method = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 4)
    let one = method.run(
      Self.game, options: MonteCarloOptions(stopping: .maxSamples(200), threads: 1)
    ).0
    let two = method.run(
      Self.game, options: MonteCarloOptions(stopping: .maxSamples(200), threads: 2)
    ).0
    #expect(one.values == two.values)
    #expect(one.standardErrors == two.standardErrors)

    var merged: MonteCarloState?
    for index in 0..<3 {
      let options = MonteCarloOptions(
        stopping: .maxSamples(200), shard: Shard(index: index, count: 3))
      let part = method.run(Self.game, options: options).1
      #expect(part.completed.count == Shard(index: index, count: 3).ownedCount(below: 200))
      if merged == nil { merged = part } else { try merged!.merge(part) }
    }
    #expect(TruncatedMonteCarloShapley.result(merged!).values == one.values)

    // "Killed" after 70 samples: resume the checkpoint up to the same budget.
    let partial = method.run(Self.game, options: MonteCarloOptions(stopping: .maxSamples(70))).1
    let resumed = method.run(
      Self.game, from: partial, options: MonteCarloOptions(stopping: .maxSamples(200))
    ).0
    #expect(resumed.values == one.values)
  }

  @Test("merging the same shard twice is refused with a ValuationError")
  func mergingTheSameShardTwiceIsRefused() {
    let method = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 4)
    let options = MonteCarloOptions(stopping: .maxSamples(10), shard: Shard(index: 0, count: 2))
    var state = method.run(Self.game, options: options).1
    #expect(throws: ValuationError.self) { try state.merge(state) }
  }

  @Test("checkpoints arrive during a run and the last one holds every sample")
  func checkpointsArriveAndTheLastHoldsEverySample() {
    let saved = Mutex<[Int]>([])
    let method = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 4)
    _ = method.run(
      Self.game, options: MonteCarloOptions(stopping: .maxSamples(40), checkpointInterval: 0),
      checkpoint: { state in saved.withLock { $0.append(state.completed.count) } })
    let counts = saved.withLock { $0 }
    #expect(counts.count >= 2)
    #expect(counts.last == 40)
  }

  @Test(
    "stopping rules combine with || and &&, and the sample limit of a combination is the right one")
  func stoppingRulesCombine() {
    var monitor = StoppingMonitor(.maxSamples(10) || .wallClock(seconds: 5))
    let snapshot = StoppingSnapshot(
      samples: 3, elapsedSeconds: 6, values: [0], standardErrors: [1], counts: [3])
    #expect(monitor.check(snapshot) == .timeLimit)
    var both = StoppingMonitor(.maxSamples(10) && .standardError(threshold: 0.1, minimumSamples: 2))
    #expect(
      both.check(
        StoppingSnapshot(
          samples: 12, elapsedSeconds: 0, values: [0], standardErrors: [0.5], counts: [12])) == nil)
    #expect(
      both.check(
        StoppingSnapshot(
          samples: 12, elapsedSeconds: 0, values: [0], standardErrors: [0.05], counts: [12]))
        == .converged)
    #expect((StoppingRule.maxSamples(10) || .maxSamples(20)).sampleLimit == 10)
    #expect(
      (StoppingRule.maxSamples(10) && .standardError(threshold: 1, minimumSamples: 1)).sampleLimit
        == nil)
  }

  @Test("rank stability converges once the order of the values stops changing")
  func rankStabilityStopsOnceTheOrderSettles() {
    var monitor = StoppingMonitor(.rankStability(tolerance: 0.01, every: 5))
    func snap(_ samples: Int, _ values: [Double]) -> StoppingSnapshot {
      StoppingSnapshot(
        samples: samples, elapsedSeconds: 0, values: values, standardErrors: [], counts: [])
    }
    #expect(monitor.check(snap(5, [1, 2, 3])) == nil)
    #expect(monitor.check(snap(10, [3, 2, 1])) == nil)
    #expect(monitor.check(snap(15, [3.1, 2, 1.2])) == .converged)
  }

  @Test("a sample index set merges inserted indices into sorted ranges")
  func sampleIndexSetMergesRanges() {
    var set = SampleIndexSet()
    for index in [5, 3, 4, 10, 0, 1, 2] { set.insert(index) }
    #expect(set.ranges == [0..<6, 10..<11])
    #expect(set.contains(4) && !set.contains(6))
    #expect(set.count == 7)
  }
}

import Glibc
import GlimpseCore
import Testing

@testable import GlimpseValuation

/// `--seconds`: a wall-clock limit ends a run within one utility evaluation, even when one
/// sample (a permutation of a slow model) takes far longer than the limit.
@Suite("Time limits: a wall-clock limit ends a run within one utility evaluation")
struct StoppingRuleTimeLimitTests {
  /// A game whose every evaluation sleeps `milliseconds`: a slow model's fit, without the CPU
  /// load (the machine is shared, so sleeping keeps the timings honest).
  static func slowGame(players: Int, milliseconds: UInt32) -> GameUtility {
    GameUtility(playerCount: players) { subset in
      usleep(milliseconds * 1000)
      return Double(subset.count) / Double(players)
    }
  }

  /// A learner whose every fit sleeps: the model is the subset's majority class.
  struct SlowLearner: Learner {
    let trainingLabels: [Int]
    let validationLabels: [Int]
    let milliseconds: UInt32
    var trainingCount: Int { trainingLabels.count }

    func fit(_ subset: [Int], warmStart: Int?) -> Int? {
      usleep(milliseconds * 1000)
      guard Set(subset.map { trainingLabels[$0] }).count >= 2 else { return nil }
      var counts = [Int: Int]()
      for i in subset { counts[trainingLabels[i], default: 0] += 1 }
      return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key
    }

    func predictions(of model: Int) -> [Int] { validationLabels.map { _ in model } }
  }

  @Test("a time limit stops TMC inside a permutation of slow fits, keeping nothing of it")
  func tmcStopsWithinOneFitOfTheLimit() {
    // One permutation: 41 evaluations of 20 ms ≈ 0.8 s; the limit is 0.25 s.
    let game = Self.slowGame(players: 40, milliseconds: 20)
    let method = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 3)
    let started = monotonicSeconds()
    let (result, state) = method.run(
      game, options: MonteCarloOptions(stopping: .wallClock(seconds: 0.25), threads: 2))
    let took = monotonicSeconds() - started
    #expect(result.status == .timeLimit)
    #expect(state.completed.count == 0)
    #expect(state.accumulator.counts.allSatisfy { $0 == 0 })
    // U(D) (one fit) + the limit + one fit in flight, with room for a loaded machine; the
    // permutation alone would take 0.8 s.
    #expect(took < 0.6, "ran \(took) s for a 0.25 s limit")
    #expect(state.elapsedSeconds < 0.5)
  }

  @Test(
    "a sample cut short by the time limit is redone whole on resume: same values as an uncut budget"
  )
  func cutSampleIsRedoneOnResume() {
    // One permutation: 7 evaluations of 25 ms ≈ 0.18 s; the limit falls inside the third.
    let game = Self.slowGame(players: 6, milliseconds: 25)
    let method = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 8)
    let (_, partial) = method.run(
      game, options: MonteCarloOptions(stopping: .wallClock(seconds: 0.45), threads: 1))
    #expect(partial.status == .timeLimit)
    #expect(partial.completed.count < 4)
    // Every point has exactly one update per completed permutation: no half permutation.
    #expect(partial.accumulator.counts.allSatisfy { $0 == partial.completed.count })
    let (resumed, _) = method.run(
      game, from: partial, options: MonteCarloOptions(stopping: .maxSamples(4), threads: 1))
    let (whole, _) = method.run(
      game, options: MonteCarloOptions(stopping: .maxSamples(4), threads: 2))
    #expect(resumed.values == whole.values)
    #expect(resumed.totalSamples == 4)
  }

  @Test("class-wise Shapley stops within one fit of the time limit")
  func classwiseStopsWithinOneFit() {
    let labels = (0..<40).map { $0 % 2 }
    let learner = SlowLearner(
      trainingLabels: labels, validationLabels: [0, 1, 1], milliseconds: 20)
    let started = monotonicSeconds()
    let (_, state) = ClasswiseShapley(seed: 1).run(
      ModelUtility(learner),
      options: MonteCarloOptions(stopping: .wallClock(seconds: 0.25), threads: 2))
    let took = monotonicSeconds() - started
    #expect(state.status == .timeLimit)
    #expect(state.completed.count == 0)
    // A sample walks 20 points (≈ 0.4 s); the final normalisation fits once more.
    #expect(took < 0.6, "ran \(took) s for a 0.25 s limit")
  }

  @Test("a sample that cannot be cut short ends the run within one sample of the limit")
  func nonPollingSampleStopsWithinOneSample() {
    let started = monotonicSeconds()
    let state = MonteCarloRunner.run(
      from: MonteCarloState(fingerprint: "t", pointCount: 1, channelCount: 1),
      options: MonteCarloOptions(
        stopping: .wallClock(seconds: 0.1) || .maxSamples(1000), threads: 2),
      sample: { _ in
        usleep(150_000)
        return [SampleUpdate(point: 0, value: 1)]
      })
    let took = monotonicSeconds() - started
    #expect(state.status == .timeLimit)
    // One sample per worker that started before the limit: 2 when the pool's second thread is
    // free at once, 1 when other tests running beside this one hold it for the first 0.1 s
    // (seen once in a full `make test`); never a third, which would start after the limit.
    #expect((1...2).contains(state.completed.count))
    #expect(took < 0.45, "ran \(took) s for a 0.1 s limit with 0.15 s samples")
  }

  @Test("stopsOnTime follows the rule's combinators")
  func stopsOnTimeCombinators() {
    let clock = StoppingRule.wallClock(seconds: 1)
    #expect(clock.stopsOnTime(afterSeconds: 1))
    #expect(!clock.stopsOnTime(afterSeconds: 0.5))
    #expect((clock || .maxSamples(5)).stopsOnTime(afterSeconds: 2))
    // "Both" needs the other rule too, which time alone cannot say.
    #expect(!(clock && .maxSamples(5)).stopsOnTime(afterSeconds: 2))
    #expect(!StoppingRule.maxSamples(5).stopsOnTime(afterSeconds: 1e9))
  }
}

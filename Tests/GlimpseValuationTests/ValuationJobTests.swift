import GlimpseCore
import Synchronization
import Testing

@testable import GlimpseValuation

/// `ValuationJob`: the fingerprint checkpoints store, the stopping rules and default budgets of
/// `glimpse value`, and runs through the job against the methods called directly.
@Suite struct ValuationJobTests {
  /// 8 training points (point 7 mislabelled) and 6 validation points in 2-D.
  static let training = Dataset(
    features: Matrix([
      [0, 0], [0.2, 0.9], [1, 0.1], [0.9, 1], [0.1, 0.4], [0.8, 0.6], [0.5, 0.5], [0.3, 0.1],
    ]),
    labels: [0, 1, 0, 1, 0, 1, 1, 1], classNames: ["a", "b"], sources: (0..<8).map { "train \($0)" }
  )
  static let validation = Dataset(
    features: Matrix([[0.1, 0.1], [0.9, 0.9], [0.2, 0.8], [0.7, 0.2], [0.6, 0.7], [0.3, 0.3]]),
    labels: [0, 1, 1, 0, 1, 0], classNames: ["a", "b"], sources: (0..<6).map { "valid \($0)" })

  /// The two pins were read from the checkpoints the previous `glimpse value` (before the job
  /// moved into the library) wrote for these sets as CSV files: `--method tmc` with every
  /// default, and `--method banzhaf --model knn --k 3 --c 10 --score macro-f1
  /// --untrainable-value 0.5 --truncation 0 --burn-in 1 --seed 42`.
  @Test("The fingerprint equals the one the CLI wrote into checkpoints before the move")
  func fingerprintMatchesOldCheckpoints() {
    let defaults = ValuationJob(method: .tmc)
    #expect(
      defaults.fingerprint(training: Self.training, validation: Self.validation)
        == "811e93e73527f01d")
    let banzhaf = ValuationJob(
      method: .banzhaf, model: LearnerFamily(.knn, k: 3, c: 10), score: .macroF1,
      untrainableValue: 0.5, truncation: 0, burnIn: 1, seed: 42)
    #expect(
      banzhaf.fingerprint(training: Self.training, validation: Self.validation)
        == "baceef3dac2808b1")
  }

  @Test("The fingerprint changes with the seed, the method and the labels")
  func fingerprintSeparatesJobs() {
    let job = ValuationJob(method: .tmc)
    let base = job.fingerprint(training: Self.training, validation: Self.validation)
    var reseeded = job
    reseeded.seed = 1
    var classwise = job
    classwise.method = .classwise
    let relabelled = Self.training.relabelled([1, 1, 0, 1, 0, 1, 1, 1], classNames: ["a", "b"])
    #expect(reseeded.fingerprint(training: Self.training, validation: Self.validation) != base)
    #expect(classwise.fingerprint(training: Self.training, validation: Self.validation) != base)
    #expect(job.fingerprint(training: relabelled, validation: Self.validation) != base)
  }

  @Test(
    "Without limits, sampled methods stop at their default budgets: tmc 100, banzhaf 2000, classwise 50 per class",
    arguments: [(ValuationMethod.tmc, 100), (.banzhaf, 2000), (.classwise, 500)])
  func defaultBudgets(method: ValuationMethod, budget: Int) {
    let rule = ValuationJob(method: method).stoppingRule(StoppingLimits(), classCount: 10)
    #expect(rule == .maxSamples(budget))
    #expect(method.defaultSampleBudget(classCount: 10) == budget)
  }

  @Test(
    "One-pass methods have no stopping rule and no budget",
    arguments: [ValuationMethod.loo, .knn, .exact])
  func onePassMethodsHaveNoStoppingRule(method: ValuationMethod) {
    #expect(
      ValuationJob(method: method).stoppingRule(StoppingLimits(samples: 5), classCount: 3) == nil)
    #expect(method.defaultSampleBudget(classCount: 3) == nil)
    #expect(!method.isSampled)
  }

  @Test("Another limit replaces the default budget; given limits combine with or, budget first")
  func limitsCompose() {
    let job = ValuationJob(method: .classwise)
    #expect(
      job.stoppingRule(StoppingLimits(maxStandardError: 0.01), classCount: 10)
        == .standardError(threshold: 0.01, minimumSamples: 5))
    let all = StoppingLimits(samples: 7, maxStandardError: 0.1, rankTolerance: 0.05, seconds: 3)
    #expect(
      job.stoppingRule(all, classCount: 10)
        == .either(
          .either(
            .either(.maxSamples(7), .standardError(threshold: 0.1, minimumSamples: 5)),
            .rankStability(tolerance: 0.05, every: 20)),
          .wallClock(seconds: 3)))
  }

  @Test("Banzhaf keeps two accumulator channels (with and without a point), the others one")
  func channelCounts() {
    for method in ValuationMethod.allCases {
      #expect(method.channelCount == (method == .banzhaf ? 2 : 1))
      #expect(ValuationCheckpoint.channelCounts[method.rawValue] ?? 1 == method.channelCount)
    }
  }

  @Test("A KNN-Shapley job is checked by retraining k-NN unless another family is named")
  func retrainedModel() {
    let knn = ValuationJob(method: .knn, model: LearnerFamily(.svm, k: 3))
    #expect(knn.retrainedModel(override: nil) == LearnerFamily(.knn, k: 3))
    #expect(knn.retrainedModel(override: .logistic).kind == .logistic)
    #expect(
      ValuationJob(method: .tmc, model: LearnerFamily(.svm)).retrainedModel(override: nil).kind
        == .svm)
  }

  @Test(
    "A TMC job gives the values of TruncatedMonteCarloShapley run directly, and checkpoints its state"
  )
  func tmcJobMatchesDirectRun() throws {
    let job = ValuationJob(method: .tmc, seed: 3)
    let saved = Mutex<[ValuationCheckpoint]>([])
    let outcome = try job.run(
      training: Self.training, validation: Self.validation,
      sampling: SamplingSettings(limits: StoppingLimits(samples: 12), threads: 2),
      checkpoint: { checkpoint in saved.withLock { $0.append(checkpoint) } })
    let utility = ModelUtility(
      ClassifierLearner.logistic(training: Self.training, validation: Self.validation))
    let (direct, _) = TruncatedMonteCarloShapley(seed: 3).run(
      utility, options: MonteCarloOptions(stopping: .maxSamples(12), threads: 2))
    #expect(outcome.result.values == direct.values)
    #expect(outcome.state?.completed.count == 12)
    let last = try #require(saved.withLock { $0.last })
    #expect(last.method == "tmc")
    #expect(last.labels == ["a", "b", "a", "b", "a", "b", "b", "b"])
    #expect(
      last.state.fingerprint
        == job.fingerprint(training: Self.training, validation: Self.validation))
  }

  @Test(
    "A classwise job hands over a last checkpoint with the in-class scores its normalisation needs")
  func classwiseCheckpointHoldsInClassScores() throws {
    let saved = Mutex<[ValuationCheckpoint]>([])
    let outcome = try ValuationJob(method: .classwise).run(
      training: Self.training, validation: Self.validation,
      sampling: SamplingSettings(limits: StoppingLimits(samples: 6), threads: 1),
      checkpoint: { checkpoint in saved.withLock { $0.append(checkpoint) } })
    let last = try #require(saved.withLock { $0.last })
    #expect(last.inClassScores?.keys.sorted() == ["0", "1"])
    #expect(last.result.values == outcome.result.values)
  }

  @Test("A KNN-Shapley job equals KNNShapley; k < 1 is refused as a typed error")
  func knnJob() throws {
    let outcome = try ValuationJob(method: .knn, model: LearnerFamily(.logistic, k: 3)).run(
      training: Self.training, validation: Self.validation)
    #expect(
      outcome.result.values
        == (try KNNShapley(k: 3).values(training: Self.training, validation: Self.validation))
        .values)
    #expect(outcome.state == nil)
    #expect(throws: ValuationRunError.knnShapley(.invalidK(0))) {
      try ValuationJob(method: .knn, model: LearnerFamily(k: 0)).run(
        training: Self.training, validation: Self.validation)
    }
  }

  @Test("Exact enumeration of more than 20 points is refused as a typed error")
  func exactRefusesLargeSets() {
    let many = Self.training.subset(Array(repeating: Array(0..<8), count: 3).flatMap { $0 })
    #expect {
      try ValuationJob(method: .exact).run(training: many, validation: Self.validation)
    } throws: { error in
      guard case .exact = error as? ValuationRunError else { return false }
      return true
    }
  }

  @Test("A checkpoint of another job or shard is not resumed, with one line naming the file")
  func resumeRefusesOtherJobs() throws {
    let job = ValuationJob(method: .tmc)
    let state = MonteCarloState(
      fingerprint: job.fingerprint(training: Self.training, validation: Self.validation),
      pointCount: 8, channelCount: 1)
    let saved = ValuationCheckpoint(
      method: "tmc", shard: .whole, sources: Self.training.sources, labels: [], inClassScores: nil,
      state: state)
    let resumed = try job.resumableState(
      from: saved, training: Self.training, validation: Self.validation, shard: .whole,
      path: "c.json")
    #expect(resumed == state)
    var other = job
    other.seed = 9
    #expect(
      throws: FileContentError(
        path: "c.json",
        reason: "the checkpoint belongs to another job (different data, method, model or seed)")
    ) {
      try other.resumableState(
        from: saved, training: Self.training, validation: Self.validation, shard: .whole,
        path: "c.json")
    }
    #expect(throws: FileContentError(path: "c.json", reason: "the checkpoint is shard 0/1")) {
      try job.resumableState(
        from: saved, training: Self.training, validation: Self.validation,
        shard: Shard(index: 1, count: 2), path: "c.json")
    }
  }
}

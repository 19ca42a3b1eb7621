import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseValuation

/// Bench stages for data valuation.
enum ValuationStages {
  /// Every valuation stage by name; each returns seconds (a median over `context.repeats`).
  ///
  /// The `-2t` names run the same work; `.ci/bench-valuation.sh` runs them with
  /// `GLIMPSE_THREADS=2` (the thread count is read from the environment at start).
  static var all: [String: (BenchContext) throws -> Double] {
    [
      "knn-shapley-1000x500": knnShapley1000x500,
      "knn-shapley-1000x500-2t": knnShapley1000x500,
      "knn-shapley-5000x1000": knnShapley5000x1000,
      "knn-shapley-5000x1000-2t": knnShapley5000x1000,
      "knn-detection": knnDetection,
      "valuation-detection": detectionTable,
      "tmc-200": tmcSecondsPerPermutation,
      "tmc-200-2t": tmcSecondsPerPermutation,
      "beta-200": betaSecondsPerPermutation,
      "beta-200-2t": betaSecondsPerPermutation,
      "data-oob": dataOOBSecondsPerBag,
      "data-oob-2t": dataOOBSecondsPerBag,
      "data-oob-detection": dataOOBDetection,
    ]
  }

  /// KNN-Shapley (k = 5) on the anchors' noisy split: the first 1000 training digits with their
  /// noisy labels, validation = test[:500], as `valuation_anchor.py knn 1000`.
  private static func knnShapley1000x500(_ context: BenchContext) throws -> Double {
    let sets = try context.anchorValuationSets()
    let (train, valid) = (sets.training, sets.validation)
    return try context.median {
      _ = try KNNShapley(k: 5).values(training: train, validation: valid)
    }
  }

  /// KNN-Shapley (k = 5) with all 5000 digits (file labels) as training and test[:1000] as
  /// validation. The validation digits are among the training digits; this stage is for timing.
  private static func knnShapley5000x1000(_ context: BenchContext) throws -> Double {
    let (digits, split) = try context.digitsAndSplit()
    let valid = digits.subset(split.test.prefix(1000))
    return try context.median {
      _ = try KNNShapley(k: 5).values(training: digits, validation: valid)
    }
  }

  /// Prints how well −value finds the 100 flipped labels of the anchor split for several k
  /// (ROC AUC, precision and recall of the lowest 10 % by a stable sort, negative values), as
  /// `valuation_anchor.py` measures them; returns the seconds of the k = 5 valuation.
  private static func knnDetection(_ context: BenchContext) throws -> Double {
    let sets = try context.anchorValuationSets()
    let (train, valid) = (sets.training, sets.validation)
    let flipped = sets.flipped ?? []
    print("| k | ROC AUC of -value | P@10% | R@10% | value < 0 (flipped) |")
    print("|---|---|---|---|---|")
    var seconds = 0.0
    for k in [1, 3, 5, 7, 10, 15, 20, 50] {
      let started = monotonicSeconds()
      let result = try KNNShapley(k: k).values(training: train, validation: valid)
      if k == 5 { seconds = monotonicSeconds() - started }
      let detection = NoiseDetection(values: result.values, bad: flipped)
      let negative = result.values.indices.filter { result.values[$0] < 0 }
      print(
        "| \(k) | \(formatFixed(detection.rocAUC, digits: 4)) | \(formatFixed(detection.precisionAtTenPercent, digits: 2)) | "
          + "\(formatFixed(detection.recallAtTenPercent, digits: 2)) | "
          + "\(negative.count) (\(negative.filter { flipped[$0] }.count)) |")
    }
    return seconds
  }

  /// Seconds per permutation of TMC-Shapley with the warm-started logistic utility on the
  /// anchors' first 200 noisy training digits, validation = test[:500], pyDVL's
  /// `RelativeTruncation(rtol=0.01, burn_in_fraction=0.4)`, as `valuation_anchor.py tmc 200`.
  private static func tmcSecondsPerPermutation(_ context: BenchContext) throws -> Double {
    try secondsPerPermutation(context) { utility, options in
      _ = TruncatedMonteCarloShapley(truncationTolerance: 0.01, burnInFraction: 0.4, seed: 0)
        .run(utility, options: options)
    }
  }

  /// Seconds per permutation of Beta(16, 1) Shapley on `tmc-200`'s utility and truncation, as
  /// `bench_reference_valuation.py beta-200` (pyDVL's `BetaShapleyValuation`).
  private static func betaSecondsPerPermutation(_ context: BenchContext) throws -> Double {
    let walk = TruncatedMonteCarloShapley(truncationTolerance: 0.01, burnInFraction: 0.4, seed: 0)
    return try secondsPerPermutation(context) { utility, options in
      _ = BetaShapley(semivalue: BetaSemivalue(alpha: 16, beta: 1), walk: walk)
        .run(utility, options: options)
    }
  }

  /// Runs `method` with the logistic utility of the anchors' first 200 noisy training digits
  /// (validation = test[:500]) for `TMC_PERMUTATIONS` (default 24) permutations on
  /// `GLIMPSE_THREADS` workers, one BLAS thread each; the median over the repeats of elapsed /
  /// permutations.
  private static func secondsPerPermutation(
    _ context: BenchContext,
    _ method: (ModelUtility<ClassifierLearner<LogisticRegression>>, MonteCarloOptions) -> Void
  ) throws -> Double {
    let sets = try context.anchorValuationSets()
    let training = sets.training.subset(0..<200)
    let permutations = Int(ProcessInfo.processInfo.environment["TMC_PERMUTATIONS"] ?? "") ?? 24
    BLAS.setThreadCount(1)
    let utility = ModelUtility(
      ClassifierLearner.logistic(training: training, validation: sets.validation), score: .accuracy)
    let options = MonteCarloOptions(
      stopping: .maxSamples(permutations), threads: Parallelism.threadCount, shard: .whole)
    let seconds = try context.median { method(utility, options) }
    return seconds / Double(permutations)
  }

  /// Seconds per bag of Data-OOB with logistic regression on the 1000 noisy anchor digits
  /// (`OOB_BAGS`, default 64, bags on `GLIMPSE_THREADS` workers), as
  /// `bench_reference_valuation.py data-oob` (pyDVL's `DataOOBValuation` of a
  /// `BaggingClassifier(LogisticRegression(max_iter=1000))`, bagging fit included).
  private static func dataOOBSecondsPerBag(_ context: BenchContext) throws -> Double {
    let sets = try context.anchorValuationSets()
    let bags = Int(ProcessInfo.processInfo.environment["OOB_BAGS"] ?? "") ?? 64
    BLAS.setThreadCount(1)
    let options = MonteCarloOptions(
      stopping: .maxSamples(bags), threads: Parallelism.threadCount, shard: .whole)
    let seconds = try context.median {
      _ = DataOutOfBag(seed: 0).run(
        model: LearnerFamily(.logistic), training: sets.training, options: options)
    }
    return seconds / Double(bags)
  }

  /// Prints how well −value of Data-OOB finds the 100 flipped labels of the anchor split: k-NN
  /// (k = 5) with 800 bags and logistic regression with `OOB_DETECTION_LOGISTIC_BAGS` (default
  /// 100), as `bench_reference_valuation.py data-oob-detection`; returns the total seconds.
  private static func dataOOBDetection(_ context: BenchContext) throws -> Double {
    let sets = try context.anchorValuationSets()
    let flipped = sets.flipped ?? []
    let logisticBags =
      Int(ProcessInfo.processInfo.environment["OOB_DETECTION_LOGISTIC_BAGS"] ?? "") ?? 100
    BLAS.setThreadCount(1)
    print("| Glimpse data-oob | ROC AUC of -value | P@10% | seconds |")
    print("|---|---|---|---|")
    var total = 0.0
    for (name, family, bags) in [
      ("k-NN (k = 5), 800 bags", LearnerFamily(.knn, k: 5), 800),
      ("logistic, \(logisticBags) bags", LearnerFamily(.logistic), logisticBags),
    ] {
      let started = monotonicSeconds()
      let (result, _) = DataOutOfBag(seed: 0).run(
        model: family, training: sets.training,
        options: MonteCarloOptions(
          stopping: .maxSamples(bags), threads: Parallelism.threadCount, shard: .whole))
      let seconds = monotonicSeconds() - started
      total += seconds
      let detection = NoiseDetection(values: result.values, bad: flipped)
      print(
        "| \(name) | \(formatFixed(detection.rocAUC, digits: 4)) | \(formatFixed(detection.precisionAtTenPercent, digits: 2)) | \(formatFixed(seconds, digits: 1)) |"
      )
    }
    return total
  }

  /// Prints the noisy-label detection table of issue 7 on the anchor split: KNN-Shapley,
  /// TMC-Shapley and classwise Shapley with the anchors' budgets, ROC AUC of −value against the
  /// flipped mask, precision of the lowest 10 %, and held-out logistic accuracy (test[500:])
  /// before and after dropping the points valued below 0; returns the total seconds.
  private static func detectionTable(_ context: BenchContext) throws -> Double {
    let sets = try context.anchorValuationSets()
    guard let heldOut = sets.heldOut, let flipped = sets.flipped else {
      throw BenchFailure(
        "\(context.splitPath): the anchor split has held-out rows and flipped labels")
    }
    BLAS.setThreadCount(1)
    let workers = Parallelism.threadCount
    print(
      "| method | N | budget | seconds | ROC AUC | P@10% | value < 0 (flipped) | LogReg held-out all → kept |"
    )
    print("|---|---|---|---|---|---|---|---|")
    var total = 0.0
    func row(
      _ name: String, _ count: Int, _ budget: String, _ value: (Dataset) throws -> ValuationResult
    ) rethrows {
      let training = sets.training.subset(0..<count)
      let bad = Array(flipped.prefix(count))
      let started = monotonicSeconds()
      let values = try value(training).values
      let seconds = monotonicSeconds() - started
      total += seconds
      let detection = NoiseDetection(values: values, bad: bad)
      let retrain = ModelUtility(
        ClassifierLearner.logistic(training: training, validation: heldOut))
      let kept = values.indices.filter { values[$0] >= 0 }
      let negative = values.indices.filter { values[$0] < 0 }
      print(
        "| \(name) | \(count) | \(budget) | \(formatFixed(seconds, digits: 2)) | \(formatFixed(detection.rocAUC, digits: 3)) | "
          + "\(formatFixed(detection.precisionAtTenPercent, digits: 2)) | \(negative.count) (\(negative.filter { bad[$0] }.count)) | "
          + "\(formatFixed(retrain.value(of: Array(values.indices)), digits: 3)) → \(formatFixed(retrain.value(of: kept), digits: 3)) |"
      )
    }
    func logistic(_ training: Dataset) -> ModelUtility<ClassifierLearner<LogisticRegression>> {
      ModelUtility(ClassifierLearner.logistic(training: training, validation: sets.validation))
    }
    func budget(_ samples: Int) -> MonteCarloOptions {
      MonteCarloOptions(stopping: .maxSamples(samples), threads: workers, shard: .whole)
    }
    for count in [200, 1000] {
      try row("KNN-Shapley, k = 5", count, "exact") {
        try KNNShapley(k: 5).values(training: $0, validation: sets.validation)
      }
    }
    row("TMC-Shapley, logistic", 200, "100 permutations") {
      TruncatedMonteCarloShapley().run(logistic($0), options: budget(100)).0
    }
    row("classwise Shapley, logistic", 200, "500 samples") {
      ClasswiseShapley().run(logistic($0), options: budget(500)).0
    }
    return total
  }
}

extension BenchContext {
  /// The anchors' valuation sets, as `glimpse value --split split.json --noisy
  /// --validation-rows 500` reads them (the same builder): the 1000 training digits with their
  /// noisy labels, validation = test[:500], held out = test[500:], and which labels were
  /// flipped.
  func anchorValuationSets() throws -> ValuationSets {
    let (data, split) = try digitsAndSplit()
    return try ValuationSets.split(
      data, trainRows: split.train, testRows: split.test, validationRows: 500,
      noisyLabels: split.noisy?.trainLabelsNoisy.map { String($0) })
  }
}

import Foundation
import GlimpseCore
import GlimpseModels
import GlimpseTestSupport
import Testing

/// Three Gaussian blobs in 3 dimensions (σ = 1, centres 4 apart), classes named out of
/// alphabetical order so that a model sorting its classes would be caught.
enum Blobs {
  static let names = ["owl", "cat", "dog"]
  static let centres: [[Double]] = [[0, 0, 0], [4, 0, 1], [0, 4, -1]]

  static func dataset(perClass: Int, seed: UInt64) -> Dataset {
    var rng = SeededGenerator(seed: seed)
    var rows: [[Double]] = []
    var labels: [Int] = []
    for index in 0..<(perClass * names.count) {
      let label = index % names.count
      rows.append(centres[label].map { $0 + normal(&rng) })
      labels.append(label)
    }
    return Dataset(
      features: Matrix(rows), labels: labels, classNames: names,
      sources: (0..<rows.count).map { "blobs:\($0)" })
  }

  /// A standard normal draw (Box–Muller).
  static func normal(_ rng: inout SeededGenerator) -> Double {
    let u = max(rng.nextUnitDouble(), 1e-300)
    let v = rng.nextUnitDouble()
    return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
  }
}

/// libsvm's one-vs-one vote, recomputed from the public decision values: pair p votes for
/// `pairs[p].first` when its value is > 0, else for `pairs[p].second`; most votes wins, the lower
/// class index on ties.
let svmVotes = ClassifierDecisionRule<SVMClassifier>(
  name: "libsvm's one-vs-one vote over decisionValues, lower index on ties"
) { model, features in
  let values = model.decisionValues(features)
  return (0..<features.rows).map { row in
    var votes = [Int](repeating: 0, count: model.classNames.count)
    for (p, pair) in model.pairs.enumerated() {
      votes[values[row, p] > 0 ? pair.first : pair.second] += 1
    }
    return votes.indices.max { a, b in votes[a] < votes[b] || (votes[a] == votes[b] && a > b) }!
  }
}

@Suite(
  "Classifier checks (checkClassifier, as scikit-learn's check_estimator) on every model family")
struct ClassifierChecksTests {
  static let train = Blobs.dataset(perClass: 20, seed: 11)
  static let probe = Blobs.dataset(perClass: 10, seed: 12)

  @Test("the RBF SVM with Platt probabilities passes every check; predict is the one-vs-one vote")
  func svmWithProbabilities() throws {
    let report = try checkClassifier(
      data: Self.train, probe: Self.probe, rule: svmVotes
    ) { data, seed in
      var rng = SeededGenerator(seed: seed)
      return try SVMClassifier.fit(data, hyperparameters: .init(), using: &rng)
    }
    #expect(report.checks.count == 10)
    #expect(report.failures == [], "\(report)")
    // The SVM's own pairing of the two: one kernel evaluation, the same results.
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(Self.train, hyperparameters: .init(), using: &rng)
    let both = model.predictProbabilitiesAndVotes(Self.probe.features)
    #expect(both.probabilities == model.predictProbabilities(Self.probe.features))
    #expect(both.votes == model.predict(Self.probe.features))
  }

  @Test(
    "the linear SVM without probabilities (vote shares) passes every check; predict is the vote")
  func linearSVMWithVoteShares() throws {
    var h = SVMClassifier.Hyperparameters()
    h.kernel = .linear
    h.probability = false
    let report = try checkClassifier(
      data: Self.train, probe: Self.probe, rule: svmVotes
    ) { data, seed in
      var rng = SeededGenerator(seed: seed)
      return try SVMClassifier.fit(data, hyperparameters: h, using: &rng)
    }
    #expect(report.failures == [], "\(report)")
    // Vote shares are multiples of 1/3 here, and their argmax is the vote too.
    let argmax = try checkClassifier(data: Self.train, probe: Self.probe) { data, seed in
      var rng = SeededGenerator(seed: seed)
      return try SVMClassifier.fit(data, hyperparameters: h, using: &rng)
    }
    #expect(argmax.failures == [], "\(argmax)")
  }

  @Test(
    "logistic regression passes every check; relabelled classes give the same probabilities within 1e-9"
  )
  func logisticRegression() throws {
    let report = try checkClassifier(
      data: Self.train, probe: Self.probe,
      // The multinomial loss and its L-BFGS steps are symmetric in the classes: only the order
      // of sums changes (3e-15 measured); 1e-9 would still catch a class-specific step.
      options: ClassifierCheckOptions(relabelProbabilityTolerance: 1e-9)
    ) { data, seed in
      var rng = SeededGenerator(seed: seed)
      return try LogisticRegression.fit(data, hyperparameters: .init(), using: &rng)
    }
    #expect(report.checks.count == 10)
    #expect(report.failures == [], "\(report)")
  }

  @Test("k-NN passes every check; relabelled classes give exactly the same probabilities")
  func nearestNeighbors() throws {
    let report = try checkClassifier(
      data: Self.train, probe: Self.probe,
      options: ClassifierCheckOptions(relabelProbabilityTolerance: 0)
    ) { data, seed in
      var rng = SeededGenerator(seed: seed)
      return try KNearestNeighbors.fit(data, hyperparameters: .init(k: 5), using: &rng)
    }
    #expect(report.failures == [], "\(report)")
  }

  @Test(
    "the seed CNN (3 epochs on 24 bar images) passes every check, with Float tolerances of 1e-6")
  func seedCNN() throws {
    let train = Bars.dataset(count: 24, seed: 21)
    let probe = Bars.dataset(count: 12, seed: 22)
    let report = try checkClassifier(
      data: train, probe: probe,
      // Float32 softmax: a row's sum is 1 to a few ulps of Float (1.2e-7 each); a row scored
      // alone may round differently from the same row in a batch (OpenBLAS kernels by width).
      options: ClassifierCheckOptions(
        sumTolerance: 1e-6, batchTolerance: 1e-6, scoringPathTolerance: 1e-6)
    ) { data, seed in
      var rng = SeededGenerator(seed: seed)
      return try CNNClassifier.fit(
        data, hyperparameters: Bars.recipe(.seed, epochs: 3), using: &rng)
    }
    #expect(report.failures == [], "\(report)")
  }

  /// The blobs with a fourth class name that has no training row: scikit-learn's models cannot
  /// represent it, Glimpse's keep the dataset's classes and give it probability 0.
  static func withAbsentClass(_ data: Dataset) -> Dataset {
    data.relabelled(data.labels, classNames: data.classNames + ["emu"])
  }

  @Test(
    "SVM, logistic regression and k-NN pass every check when a class has no training row",
    arguments: ["svm", "logistic", "knn"])
  func classWithoutRows(kind: String) throws {
    let train = Self.withAbsentClass(Self.train)
    let probe = Self.withAbsentClass(Self.probe)
    func absentColumnIsZero(_ model: some Classifier) -> Bool {
      let p = model.predictProbabilities(probe.features)
      return (0..<p.rows).allSatisfy { p[$0, 3] == 0 }
    }
    let report: ClassifierCheckReport
    switch kind {
    case "svm":
      report = try checkClassifier(data: train, probe: probe, rule: svmVotes) { data, seed in
        var rng = SeededGenerator(seed: seed)
        return try SVMClassifier.fit(data, hyperparameters: .init(), using: &rng)
      }
      var rng = SeededGenerator(seed: 0)
      #expect(
        absentColumnIsZero(try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)))
    case "logistic":
      report = try checkClassifier(
        data: train, probe: probe,
        options: ClassifierCheckOptions(relabelProbabilityTolerance: 1e-9)
      ) { data, seed in
        var rng = SeededGenerator(seed: seed)
        return try LogisticRegression.fit(data, hyperparameters: .init(), using: &rng)
      }
      var rng = SeededGenerator(seed: 0)
      #expect(
        absentColumnIsZero(try LogisticRegression.fit(train, hyperparameters: .init(), using: &rng))
      )
    default:
      report = try checkClassifier(
        data: train, probe: probe, options: ClassifierCheckOptions(relabelProbabilityTolerance: 0)
      ) { data, seed in
        var rng = SeededGenerator(seed: seed)
        return try KNearestNeighbors.fit(data, hyperparameters: .init(k: 5), using: &rng)
      }
      var rng = SeededGenerator(seed: 0)
      #expect(
        absentColumnIsZero(
          try KNearestNeighbors.fit(train, hyperparameters: .init(k: 5), using: &rng)))
    }
    #expect(report.failures == [], "\(report)")
  }

  @Test(
    "checkClassifier catches a model whose predict breaks its rule and whose rows do not sum to 1")
  func checkerCatchesABrokenModel() throws {
    let report = try checkClassifier(data: Self.train, probe: Self.probe) { data, _ in
      BrokenModel(classNames: data.classNames, featureCount: data.featureCount)
    }
    #expect(report.failures.contains { $0.hasPrefix("probabilities: row 0 sums to") })
    #expect(report.failures.contains { $0.hasPrefix("decision rule") })
    #expect(report.failures.contains { $0.hasPrefix("round trip") })
  }
}

/// A deliberately wrong classifier: rows sum to 1.5, `predict` always says the last class,
/// and its file is not readable by `ClassifierFile`.
struct BrokenModel: Classifier {
  struct Hyperparameters: Sendable, Codable {}
  static let kind = "broken"
  var hyperparameters = Hyperparameters()
  var classNames: [String]
  var featureCount: Int

  init(classNames: [String], featureCount: Int) {
    self.classNames = classNames
    self.featureCount = featureCount
  }

  static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> BrokenModel {
    BrokenModel(classNames: data.classNames, featureCount: data.featureCount)
  }

  func predictProbabilities(_ features: Matrix) -> Matrix {
    Matrix(rows: features.rows, columns: classNames.count) { _, column in
      column == 0 ? 1 : 0.5 / Double(classNames.count - 1)
    }
  }

  func predict(_ features: Matrix) -> [Int] {
    Array(repeating: classNames.count - 1, count: features.rows)
  }

  func archive() -> ModelArchive {
    ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount,
      hyperparameters: hyperparameters)
  }

  init(archive: ModelArchive) throws(ModelError) {
    self.init(classNames: archive.classNames, featureCount: archive.featureCount)
  }
}

import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// scikit-learn's SVC on small digit sets (Fixtures/scripts/make_svm_fixtures.py).
// The property names are the fixture's JSON keys.
// swift-format-ignore: AlwaysUseLowerCamelCase
struct SVMFixture: Decodable {
  var classes: [Int]
  var train_rows: [Int]
  var test_rows: [Int]
  var gamma: Double
  var support: [Int]
  var n_support: [Int]
  var dual_coefficients: [Double]
  var rho: [Double]
  var decision_values: [Double]
  var predict: [Int]
  var probA: [Double]?
  var probB: [Double]?
  var predict_proba: [Double]?
}

/// The sample digits, loaded once per test process.
enum Digits {
  static let all: Dataset = {
    var options = ReadOptions()
    options.labelsPath = TestPaths.samples + "/mnist/mnist-lbls-mini.csv.bz2"
    do {
      return try TableDatasetReader.read(
        TestPaths.samples + "/mnist/mnist-imgs-mini.csv.bz2", options: options)
    } catch {
      preconditionFailure("cannot read the sample digits: \(error)")
    }
  }()

  /// Every 2nd pixel of every 2nd row: 14 × 14 = 196 features, as the fixtures use.
  static let small: Dataset = {
    let columns = (0..<14).flatMap { r in (0..<14).map { c in 2 * r * 28 + 2 * c } }
    let features = Matrix(rows: all.count, columns: 196) { all.features[$0, columns[$1]] }
    return Dataset(
      features: features, labels: all.labels, classNames: all.classNames, sources: all.sources)
  }()

  /// Rows of the small digits restricted to `classes` (class names become "0", "2", ...).
  static func subset(_ rows: [Int], classes: [Int]) -> Dataset {
    let names = classes.map(String.init)
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { (String($1), $0) })
    let picked = small.subset(rows)
    return Dataset(
      features: picked.features, labels: picked.labels.map { index[picked.classNames[$0]]! },
      classNames: names, sources: picked.sources)
  }
}

@Suite("SVM")
struct SVMClassifierTests {
  let fixtures = TestPaths.fixtures("GlimpseModelsTests")

  func fixture(_ name: String) throws -> SVMFixture {
    try loadJSON(SVMFixture.self, from: fixtures + "/svm_\(name).json")
  }

  func fit(_ f: SVMFixture, _ configure: (inout SVMClassifier.Hyperparameters) -> Void) throws
    -> SVMClassifier
  {
    var h = SVMClassifier.Hyperparameters()
    h.probability = false
    configure(&h)
    var rng = SeededGenerator(seed: 0)
    return try SVMClassifier.fit(
      Digits.subset(f.train_rows, classes: f.classes), hyperparameters: h, using: &rng)
  }

  @Test(
    "binary and multiclass SMO solutions match libsvm's: support set, dual coefficients, rho, decision values",
    arguments: ["binary_rbf", "multiclass_rbf", "binary_linear", "binary_poly"], [false, true])
  func matchesLibsvm(name: String, tight: Bool) throws {
    let f = try fixture(name + (tight ? "_tight" : ""))
    let model = try fit(f) { h in
      h.tolerance = tight ? 1e-9 : 1e-3
      switch name {
      case "binary_linear":
        h.kernel = .linear
        h.c = 0.5
      case "binary_poly":
        h.kernel = .poly
        h.c = 2
        h.coef0 = 1
      default: break
      }
    }
    if case .rbf(let gamma) = model.kernel { #expect(abs(gamma - f.gamma) < 1e-12 * f.gamma) }
    #expect(model.supportIndices.map { f.train_rows[$0] } == f.support)
    #expect(model.supportCountsPerClass == f.n_support)
    // At libsvm's default ε = 1e-3 SMO stops anywhere the KKT gap is under 1e-3, and the path
    // there depends on tie-breaking details (libsvm permutes the problem when it shrinks), so
    // coefficients agree to a few 1e-3. Solved to ε = 1e-9, both reach the unique optimum.
    let tolerance = tight ? 1e-6 : 5e-3
    #expect(maxAbsoluteDifference(model.dualCoefficients.storage, f.dual_coefficients) < tolerance)
    #expect(maxAbsoluteDifference(model.rho, f.rho) < tolerance)
    let test = Digits.subset(f.test_rows, classes: f.classes)
    #expect(
      maxAbsoluteDifference(model.decisionValues(test.features).storage, f.decision_values)
        < tolerance)
    #expect(model.predict(test.features).map { f.classes[$0] } == f.predict)
  }

  @Test("Platt sigmoids and pairwise coupling reproduce libsvm's probabilities from its own model")
  func probabilitiesFromLibsvmModel() throws {
    let f = try fixture("multiclass_rbf")
    let support = f.support
    let vectors = Digits.small.features.selectingRows(support)
    let positions = Dictionary(uniqueKeysWithValues: f.train_rows.enumerated().map { ($1, $0) })
    let pairs = f.classes.indices.flatMap { i in ((i + 1)..<f.classes.count).map { (i, $0) } }
    var h = SVMClassifier.Hyperparameters()
    h.probability = true
    let archive = ModelArchive(
      kind: "svm", classNames: f.classes.map(String.init), featureCount: 196, hyperparameters: h,
      scalars: ["kernel": 0, "gamma": f.gamma],
      doubles: [
        "supportVectors": vectors.storage, "dualCoefficients": f.dual_coefficients, "rho": f.rho,
        "probA": try #require(f.probA), "probB": try #require(f.probB),
      ],
      integers: [
        "supportIndices": support.map { positions[$0]! },
        "supportClasses": support.map { row in f.classes.firstIndex(of: Digits.all.labels[row])! },
        "pairFirst": pairs.map(\.0), "pairSecond": pairs.map(\.1),
      ])
    let model = try SVMClassifier(archive: archive)
    let test = Digits.subset(f.test_rows, classes: f.classes)
    let probabilities = model.predictProbabilities(test.features)
    #expect(maxAbsoluteDifference(probabilities.storage, try #require(f.predict_proba)) < 1e-9)
  }

  @Test("pairwise coupling recovers p exactly when r_ij = p_i / (p_i + p_j)")
  func couplingRecoversConsistentProbabilities() {
    let p = [0.5, 0.2, 0.2, 0.07, 0.03]
    let r = p.indices.map { i in p.indices.map { j in i == j ? 0 : p[i] / (p[i] + p[j]) } }
    #expect(maxAbsoluteDifference(PairwiseCoupling.probabilities(r), p) < 1e-3)
  }

  @Test("the Platt fit is a stationary point of its regularised log-likelihood")
  func plattStationary() {
    var generator = SeededGenerator(seed: 4)
    var values: [Double] = []
    var labels: [Double] = []
    for _ in 0..<300 {
      let label: Double = generator.nextUnitDouble() < 0.4 ? 1 : -1
      values.append(label * 1.2 + (generator.nextUnitDouble() - 0.5) * 3)
      labels.append(label)
    }
    let sigmoid = PlattSigmoid.fit(decisionValues: values, labels: labels)
    #expect(sigmoid.a < 0)  // larger decision values mean class +1
    let positives = Double(labels.filter { $0 > 0 }.count)
    let negatives = 300 - positives
    var g1 = 0.0
    var g2 = 0.0
    for (f, y) in zip(values, labels) {
      let t = y > 0 ? (positives + 1) / (positives + 2) : 1 / (negatives + 2)
      let residual = t - sigmoid.probability(f)
      g1 += f * residual
      g2 += residual
    }
    #expect(abs(g1) < 1e-5 && abs(g2) < 1e-5)
  }

  @Test("shrinking does not change the solution")
  func shrinkingInvariance() throws {
    let f = try fixture("multiclass_rbf")
    let with = try fit(f) { $0.shrinking = true }
    let without = try fit(f) { $0.shrinking = false }
    #expect(with.supportIndices == without.supportIndices)
    #expect(
      maxAbsoluteDifference(with.dualCoefficients.storage, without.dualCoefficients.storage) < 1e-4)
  }

  @Test("the kernel-row cache gives the same model as the whole Gram matrix")
  func cachedRowsMatchGram() throws {
    let data = Digits.subset(Array(0..<40) + Array(500..<540), classes: [0, 1])
    let gramSource = KernelSource(
      kernel: .rbf(gamma: 0.05), features: data.features, gramBytes: 1 << 30)
    let rowSource = KernelSource(kernel: .rbf(gamma: 0.05), features: data.features, gramBytes: 0)
    #expect(rowSource.gram == nil)
    let labels = (0..<80).map { $0 < 40 ? 1.0 : -1.0 }
    var a = SMOSolver(
      kernel: KernelRows(members: Array(0..<80), source: gramSource, cacheBytes: 1 << 20),
      labels: labels, c: 1, epsilon: 1e-3, shrinking: true)
    // A cache of 3 rows forces evictions.
    var b = SMOSolver(
      kernel: KernelRows(members: Array(0..<80), source: rowSource, cacheBytes: 3 * 80 * 8),
      labels: labels, c: 1, epsilon: 1e-3, shrinking: true)
    let x = a.solve()
    let y = b.solve()
    #expect(maxAbsoluteDifference(x.alpha, y.alpha) < 1e-9)
    #expect(abs(x.rho - y.rho) < 1e-9)
  }

  @Test("probabilities sum to 1, save/load predicts identically, same seed same model")
  func propertiesAndPersistence() throws {
    let f = try fixture("multiclass_rbf")
    var h = SVMClassifier.Hyperparameters()
    h.probability = true
    let data = Digits.subset(f.train_rows, classes: f.classes)
    var rng1 = SeededGenerator(seed: 5)
    var rng2 = SeededGenerator(seed: 5)
    let model = try SVMClassifier.fit(data, hyperparameters: h, using: &rng1)
    let again = try SVMClassifier.fit(data, hyperparameters: h, using: &rng2)
    let test = Digits.subset(f.test_rows, classes: f.classes).features
    let probabilities = model.predictProbabilities(test)
    #expect(probabilities == again.predictProbabilities(test))
    for row in 0..<probabilities.rows {
      #expect(abs(probabilities.row(row).reduce(0, +) - 1) < 1e-9)
    }
    let loaded = try SVMClassifier(archive: ModelArchive(decoding: model.archive().encoded()))
    #expect(loaded.predictProbabilities(test) == probabilities)
    #expect(loaded.predict(test) == model.predict(test))
  }

  @Test("a separable toy set is fitted perfectly; absent classes get probability 0")
  func separableToy() throws {
    var points: [[Double]] = []
    var labels: [Int] = []
    var generator = SeededGenerator(seed: 1)
    for c in 0..<3 {
      for _ in 0..<20 {
        points.append([Double(c) * 4 + generator.nextUnitDouble(), generator.nextUnitDouble()])
        labels.append(c)
      }
    }
    // Class "d" has no rows.
    let data = Dataset(
      features: Matrix(points), labels: labels, classNames: ["a", "b", "c", "d"],
      sources: points.indices.map { "row \($0)" })
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(data, hyperparameters: .init(), using: &rng)
    #expect(model.predict(data.features) == labels)
    #expect(model.predictProbabilities(data.features).argmaxRows() == labels)
    let probabilities = model.predictProbabilities(data.features)
    #expect((0..<60).allSatisfy { probabilities[$0, 3] == 0 })
  }

  @Test("bad hyperparameters and one-class data are refused")
  func refusals() throws {
    let data = Digits.subset(Array(0..<10) + Array(500..<510), classes: [0, 1])
    var h = SVMClassifier.Hyperparameters()
    h.c = 0
    var rng = SeededGenerator(seed: 0)
    #expect(
      throws: ModelError.invalidHyperparameter(name: "C", value: "0.0", expected: "a number > 0")
    ) {
      try SVMClassifier.fit(data, hyperparameters: h, using: &rng)
    }
    #expect(throws: ModelError.self) {
      try SVMClassifier.fit(data.subset(Array(0..<10)), hyperparameters: .init(), using: &rng)
    }
  }
}

/// The anchor split of the Python reference: 1000 training and 1000 test digits.
enum AnchorSplit {
  struct Split: Decodable {
    var train: [Int]
    var test: [Int]
  }

  static let split: Split = {
    do {
      return try loadJSON(Split.self, from: TestPaths.samples + "/mnist/split.json")
    } catch {
      preconditionFailure("cannot read samples/mnist/split.json: \(error)")
    }
  }()

  static var train: Dataset { Digits.all.subset(split.train) }
  static var test: Dataset { Digits.all.subset(split.test) }
}

@Suite("SVM on the anchor split")
struct SVMAnchorTests {
  @Test(
    "accuracy within 1 point of scikit-learn's 0.927; probability argmax agrees with its on ≥ 97 % of test digits"
  )
  func anchorSplit() throws {
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(AnchorSplit.train, hyperparameters: .init(), using: &rng)
    let test = AnchorSplit.test
    let votes = model.predict(test.features)
    let accuracy = Double(zip(votes, test.labels).filter { $0 == $1 }.count) / Double(test.count)
    #expect(abs(accuracy - 0.927) <= 0.01)
    let probabilities = model.predictProbabilities(test.features)
    let reference = try CSVReader.read(
      TestPaths.fixtures("GlimpseModelsTests") + "/anchor_svm_test_proba.csv"
    ).values
    let agreement =
      Double(zip(probabilities.argmaxRows(), reference.argmaxRows()).filter { $0 == $1 }.count)
      / 1000
    #expect(agreement >= 0.97)
    // Different cross-validation folds give different sigmoids: the probabilities differ by
    // thousandths on average (0.0016 mean absolute difference, largest 0.058, in the run
    // recorded in docs/classifiers.md); the bound leaves room for other folds.
    let meanDifference =
      zip(probabilities.storage, reference.storage).reduce(0) { $0 + abs($1.0 - $1.1) } / 10_000
    #expect(meanDifference < 0.02)
    #expect(model.supportIndices.count > 700 && model.supportIndices.count < 830)  // sklearn: 766
  }
}

@Suite("Masked batches")
struct MaskedBatchTests {
  @Test(
    "an SVM scores a masked batch exactly as the rows written out",
    arguments: [SVMClassifier.KernelName.rbf, .linear, .poly])
  func svmMaskedBatchMatchesRows(kernel: SVMClassifier.KernelName) throws {
    var h = SVMClassifier.Hyperparameters()
    h.kernel = kernel
    let data = Digits.subset(
      Array(0..<30) + Array(500..<530) + Array(1000..<1030), classes: [0, 1, 2])
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(data, hyperparameters: h, using: &rng)
    let base = randomValues(196, seed: 1)
    let delta = randomValues(196, seed: 2).map { $0 - 0.5 }
    let groups = (0..<196).map { Int32(($0 * 7) % 5) }
    let coefficients = Matrix(
      rows: 20, columns: 5, storage: randomValues(100, seed: 3).map { $0 < 0.5 ? 0 : 1 })
    let batch = MaskedBatch(
      base: base, delta: delta, groups: groups, groupCount: 5, coefficients: coefficients)
    let rows = batch.materialized()
    #expect(
      maxAbsoluteDifference(model.decisionValues(batch).storage, model.decisionValues(rows).storage)
        < 1e-9)
    #expect(
      maxAbsoluteDifference(
        model.predictProbabilities(batch).storage, model.predictProbabilities(rows).storage) < 1e-9)
  }
}

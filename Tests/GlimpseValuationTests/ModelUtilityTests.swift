import GlimpseCore
import GlimpseModels
import Testing

@testable import GlimpseValuation

#if canImport(Glibc)
  import Glibc
#endif

/// pyDVL's closed-form classifier for its class-wise example: β = x·y / x·x on one feature,
/// predicting clip(round(β x), 0, 1).
struct ClosedFormLinearLearner: Learner {
  let trainingX: [Double] = [1, 2, 3, 4]
  let trainingLabels = [0, 0, 1, 1]
  let validationX: [Double] = [1, 2, 3, 4]
  let validationLabels = [0, 0, 0, 1]

  var trainingCount: Int { trainingX.count }

  func fit(_ subset: [Int], warmStart: Double?) -> Double? {
    guard !subset.isEmpty else { return nil }
    let xy = subset.reduce(0.0) { $0 + trainingX[$1] * Double(trainingLabels[$1]) }
    let xx = subset.reduce(0.0) { $0 + trainingX[$1] * trainingX[$1] }
    return xy / xx
  }

  func predictions(of beta: Double) -> [Int] {
    validationX.map { Int(min(1, max(0, (beta * $0 + 1e-10).rounded()))) }
  }
}

@Suite(
  "Model utilities: class-wise Shapley, logistic utility, untrainable subsets, validation scores")
struct ModelUtilityTests {
  /// pyDVL's documented hand-solvable case (test D = {(1,0),(2,0),(3,0),(4,1)}, train
  /// T = {(1,0),(2,0),(3,1),(4,1)}): normalised values e^{1/4}/6 · e^{−1/4} = 1/6, 1/3, and for
  /// class 1 (e^{1/4}/12 + e^{1/2}/24) / c and (e^{1/2}/8) / c with c = e^{1/4}/3 + 2e^{1/2}/3
  /// (pyDVL's `classwise_shapley_exact_solution_normalized`).
  @Test(
    "class-wise Shapley reproduces pyDVL's hand-solvable case within 0.005, and each class's values sum to its in-class score"
  )
  func classwiseReproducesPyDVLsHandSolvableCase() {
    let utility = ModelUtility(ClosedFormLinearLearner())
    let (result, _) = ClasswiseShapley(seed: 3).run(
      utility, options: MonteCarloOptions(stopping: .maxSamples(40000)))
    let e4: Double = exp(0.25)
    let e2: Double = exp(0.5)
    let c: Double = e4 / 3 + 2 * e2 / 3
    let expected: [Double] = [1.0 / 6, 1.0 / 3, (e4 / 12 + e2 / 24) / c, (e2 / 8) / c]
    for i in 0..<4 {
      #expect(
        abs(result.values[i] - expected[i]) < 0.005,
        "point \(i): \(result.values[i]) vs \(expected[i])")
    }
    // Normalisation: each class's values sum to its in-class score of the model on all of T
    // (β = 7/30 predicts [0,0,1,1]: class 0 gets 2 of 4 right in-class, class 1 gets 1 of 4).
    #expect(abs(result.values[0] + result.values[1] - 0.5) < 1e-12)
    #expect(abs(result.values[2] + result.values[3] - 0.25) < 1e-12)
  }

  /// A logistic-regression utility on 8 separable-ish 2-D points: TMC without truncation lands
  /// within 4 standard errors of exact Shapley by enumeration (256 fits).
  @Test(
    "TMC on a logistic-regression utility lies within 4 standard errors of exact Shapley by enumeration; the mislabelled point is negative"
  )
  func logisticUtilityTMCMatchesEnumeration() throws {
    let points: [[Double]] = [
      [0, 0], [0.2, 0.9], [1, 0.1], [0.9, 1], [0.1, 0.4], [0.8, 0.6], [0.5, 0.5], [0.3, 0.1],
    ]
    let labels = [0, 1, 0, 1, 0, 1, 1, 1]  // point 7 is mislabelled
    let training = Dataset(
      features: Matrix(points), labels: labels, classNames: ["a", "b"],
      sources: points.indices.map { "train \($0)" })
    let validationPoints: [[Double]] = [
      [0.1, 0.1], [0.9, 0.9], [0.2, 0.8], [0.7, 0.2], [0.6, 0.7], [0.3, 0.3],
    ]
    let validation = Dataset(
      features: Matrix(validationPoints), labels: [0, 1, 1, 0, 1, 0], classNames: ["a", "b"],
      sources: validationPoints.indices.map { "valid \($0)" })
    let utility = ModelUtility(
      ClassifierLearner.logistic(
        training: training, validation: validation, hyperparameters: .init(c: 10)))
    let exact = try ExactSemivalues.values(utility, kind: .shapley)
    let (estimate, _) = TruncatedMonteCarloShapley(truncationTolerance: nil, seed: 1).run(
      utility, options: MonteCarloOptions(stopping: .maxSamples(600)))
    for i in 0..<8 {
      #expect(abs(estimate.values[i] - exact.values[i]) <= 4 * estimate.standardErrors[i] + 1e-9)
    }
    // Efficiency of the exact values, with U(∅) = 0.
    #expect(abs(exact.values.reduce(0, +) - utility.value(of: Array(0..<8))) < 1e-12)
    // The mislabelled point hurts.
    #expect(exact.values[7] < 0)
  }

  /// One-class and empty subsets are "too small to train": they score `untrainableValue`.
  @Test("empty and one-class subsets score the untrainable value")
  func subsetsWithOneClassGetTheUntrainableValue() {
    let training = Dataset(
      features: Matrix(rows: 3, columns: 1, storage: [0, 1, 2]), labels: [0, 0, 1],
      classNames: ["a", "b"], sources: ["p0", "p1", "p2"])
    let utility = ModelUtility(
      ClassifierLearner.logistic(training: training, validation: training), untrainableValue: -1)
    #expect(utility.value(of: []) == -1)
    #expect(utility.value(of: [0, 1]) == -1)
    #expect(utility.value(of: [0, 2]) > 0)
  }

  @Test("accuracy, balanced accuracy and macro F1 match hand counts")
  func validationScoresMatchHandCounts() {
    let truth = [0, 0, 0, 1, 1, 2]
    let predicted = [0, 0, 1, 1, 0, 2]
    #expect(ValidationScore.accuracy.score(predicted, truth: truth) == 4.0 / 6)
    // Recalls: 2/3, 1/2, 1.
    #expect(
      abs(ValidationScore.balancedAccuracy.score(predicted, truth: truth) - (2.0 / 3 + 0.5 + 1) / 3)
        < 1e-15)
    // F1: class 0: 2·2/(3+3), class 1: 2·1/(2+2), class 2: 1.
    #expect(
      abs(ValidationScore.macroF1.score(predicted, truth: truth) - (4.0 / 6 + 0.5 + 1) / 3) < 1e-15)
  }

  @Test(
    "balanced accuracy and macro F1 sum their classes in ascending order, bit for bit, so a score does not change from run to run with Swift's per-process hash seed"
  )
  func classScoresSumInClassOrder() {
    var generator = SeededGenerator(seed: 11)
    for _ in 0..<200 {
      let classes = Int.random(in: 3...9, using: &generator)
      let count = Int.random(in: 5...40, using: &generator)
      let truth = (0..<count).map { _ in Int.random(in: 0..<classes, using: &generator) }
      let predicted = (0..<count).map { _ in Int.random(in: 0..<classes, using: &generator) }
      var recalls: [Double] = []
      var f1: [Double] = []
      for c in 0..<classes {
        let actual = truth.count { $0 == c }
        let guessed = predicted.count { $0 == c }
        let hits = zip(predicted, truth).count { $0 == c && $1 == c }
        if actual > 0 { recalls.append(Double(hits) / Double(actual)) }
        if actual + guessed > 0 { f1.append(2 * Double(hits) / Double(actual + guessed)) }
      }
      // Left to right in class order: the sum the scores must reproduce exactly.
      let balanced = recalls.reduce(0, +) / Double(recalls.count)
      let macro = f1.reduce(0, +) / Double(f1.count)
      #expect(ValidationScore.balancedAccuracy.score(predicted, truth: truth) == balanced)
      #expect(ValidationScore.macroF1.score(predicted, truth: truth) == macro)
    }
  }
}

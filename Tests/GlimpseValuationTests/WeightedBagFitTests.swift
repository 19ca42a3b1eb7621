import GlimpseCore
import GlimpseModels
import Testing

@testable import GlimpseValuation

/// Data-OOB's bags train logistic regression on their distinct rows weighted by multiplicity
/// (`LogisticRegression.fit(_:sampleWeights:...)`, `Learner.fitBag`): the same objective as the
/// repeated rows, so the same optimum.
@Suite("Weighted logistic fit = the fit on repeated rows (Data-OOB bags)")
struct WeightedBagFitTests {
  /// `rows` × `columns` features, three classes; with `density` < 1 most values are 0 (the
  /// sparse products of the objective), else every value is drawn (the GEMMs).
  static func data(rows: Int, columns: Int, density: Double, seed: UInt64) -> Dataset {
    var rng = SeededGenerator(seed: seed)
    let labels = (0..<rows).map { $0 % 3 }
    var features = Matrix(rows: rows, columns: columns)
    for r in 0..<rows {
      for c in 0..<columns where Double.random(in: 0..<1, using: &rng) < density {
        features[r, c] = Double.random(in: 0..<1, using: &rng) + (c % 3 == labels[r] ? 0.5 : 0)
      }
    }
    return Dataset(
      features: features, labels: labels, classNames: ["a", "b", "c"],
      sources: (0..<rows).map { "r\($0)" })
  }

  @Test(
    "Integer weights give the model of the duplicated rows to 1e-6 (tolerance 1e-10), sparse and dense features",
    arguments: [0.25, 1.0])
  func weightedEqualsDuplicated(density: Double) throws {
    let data = Self.data(rows: 60, columns: 12, density: density, seed: 7)
    let bag = DataOutOfBag(seed: 4).bag(0, count: data.count)
    let points = Array(Set(bag)).sorted()
    let weights = points.map { p in Double(bag.count { $0 == p }) }
    #expect(weights.contains { $0 > 1 })
    var h = LogisticRegression.Hyperparameters()
    h.tolerance = 1e-10
    h.maxIterations = 5000
    let repeated = try LogisticRegression.fit(data.subset(bag), hyperparameters: h, warmStart: nil)
    let weighted = try LogisticRegression.fit(
      data.subset(points), sampleWeights: weights, hyperparameters: h)
    #expect(weighted.fittedClasses == repeated.fittedClasses)
    #expect(maximumDifference(weighted.weights.storage, repeated.weights.storage) < 1e-6)
    #expect(maximumDifference(weighted.intercepts, repeated.intercepts) < 1e-6)
    // The weights matter: the unweighted fit on the distinct rows is another model.
    let distinct = try LogisticRegression.fit(
      data.subset(points), hyperparameters: h, warmStart: nil)
    #expect(maximumDifference(distinct.weights.storage, repeated.weights.storage) > 1e-3)
  }

  @Test("Weights of 1 take the unweighted fit's path: the same bits")
  func unitWeightsAreUnweighted() throws {
    let data = Self.data(rows: 40, columns: 10, density: 0.3, seed: 2)
    let h = LogisticRegression.Hyperparameters()
    let plain = try LogisticRegression.fit(data, hyperparameters: h, warmStart: nil)
    let ones = try LogisticRegression.fit(
      data, sampleWeights: [Double](repeating: 1, count: data.count), hyperparameters: h)
    #expect(plain.weights == ones.weights)
    #expect(plain.intercepts == ones.intercepts)
  }

  @Test("Bad weights are refused with an error, not a trap")
  func badWeights() {
    let data = Self.data(rows: 9, columns: 4, density: 1, seed: 1)
    let h = LogisticRegression.Hyperparameters()
    #expect(throws: ModelError.self) {
      _ = try LogisticRegression.fit(data, sampleWeights: [1, 2], hyperparameters: h)
    }
    #expect(throws: ModelError.self) {
      _ = try LogisticRegression.fit(
        data, sampleWeights: [Double](repeating: 0, count: 9), hyperparameters: h)
    }
  }

  @Test(
    "The logistic learner's bag models, from zero and from the fit on all points, predict as the fit on the repeated rows (60 bags)"
  )
  func bagPredictions() {
    let data = Self.data(rows: 50, columns: 8, density: 0.3, seed: 11)
    let learner = ClassifierLearner.logistic(training: data, validation: data)
    let oob = DataOutOfBag(seed: 1)
    let all = learner.fit(Array(0..<data.count), warmStart: nil)
    var agree = 0
    var total = 0
    for b in 0..<60 {
      let bag = oob.bag(b, count: data.count)
      guard let weighted = learner.fitBag(bag, warmStart: nil),
        let warm = learner.fitBag(bag, warmStart: all),
        let repeated = learner.fit(bag, warmStart: nil)
      else { continue }
      let truth = learner.predictions(of: repeated)
      for model in [weighted, warm] {
        agree += zip(learner.predictions(of: model), truth).count { $0 == $1 }
      }
      total += 2 * truth.count
    }
    // All stop at tolerance 1e-4, from zero or from the fit on all points, so a point near a
    // boundary may differ.
    #expect(total == 2 * 60 * 50)
    #expect(Double(agree) / Double(total) > 0.995)
  }
}

import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("Logistic regression on subsets (SubsetTrainer)")
struct LogisticSubsetTrainerTests {
  typealias H = LogisticRegression.Hyperparameters

  /// Rows with repeats and a gap, in no particular order.
  static let subset = [5, 3, 3, 40, 12, 7, 7, 7, 60, 1, 22, 90, 14, 33, 2, 71, 58, 19, 84, 45]

  @Test(
    "a subset's fit from the prepared sparse rows is the fit on data.subset(rows): the same optimum (tol 1e-10, probabilities 1e-7), repeats and weights included"
  )
  func equalsTheSubsetFit() throws {
    let data = try LogisticFixture.load("logistic_multiclass").train
    let trainer = LogisticRegression.SubsetTrainer(data)
    #expect(trainer.rows != nil)
    let rows = Self.subset.filter { $0 < data.count }
    let h = H(tolerance: 1e-10)
    let weights = rows.indices.map { 0.5 + Double($0 % 3) }
    for sampleWeights in [nil, weights] as [[Double]?] {
      let prepared = try trainer.fit(rows: rows, sampleWeights: sampleWeights, hyperparameters: h)
      let direct =
        try sampleWeights.map {
          try LogisticRegression.fit(data.subset(rows), sampleWeights: $0, hyperparameters: h)
        } ?? LogisticRegression.fit(data.subset(rows), hyperparameters: h, warmStart: nil)
      #expect(prepared.fittedClasses == direct.fittedClasses)
      let p = prepared.predictProbabilities(data.features)
      let q = direct.predictProbabilities(data.features)
      #expect(maxAbsoluteDifference(p.storage, q.storage) < 1e-7)
    }
  }

  @Test("the default tolerance's fit meets scikit-learn's criterion on the subset (1e-4)")
  func defaultToleranceOnSubset() throws {
    let data = try LogisticFixture.load("logistic_multiclass").train
    let rows = Array(stride(from: 0, to: data.count, by: 2))
    let model = try LogisticRegression.SubsetTrainer(data).fit(rows: rows, hyperparameters: H())
    let direct = try LogisticRegression.fit(
      data.subset(rows), hyperparameters: H(tolerance: 1e-10), warmStart: nil)
    // Both within the tolerance of one optimum: the same predictions on the training rows.
    #expect(model.converged)
    #expect(model.predict(data.features) == direct.predict(data.features))
  }

  @Test("a dense training set keeps the dense fit, bit for bit")
  func denseSetFallsBack() throws {
    let values = randomValues(60 * 5, seed: 3).map { $0 + 0.5 }
    let data = Dataset(
      features: Matrix(rows: 60, columns: 5, storage: values), labels: (0..<60).map { $0 % 3 },
      classNames: ["a", "b", "c"], sources: (0..<60).map { "r\($0)" })
    let trainer = LogisticRegression.SubsetTrainer(data)
    #expect(trainer.rows == nil)
    let rows = Array(0..<40) + [3, 3]
    let prepared = try trainer.fit(rows: rows, hyperparameters: H())
    let direct = try LogisticRegression.fit(data.subset(rows), hyperparameters: H(), warmStart: nil)
    #expect(prepared.weights == direct.weights && prepared.intercepts == direct.intercepts)
  }

  @Test(
    "no rows, a row out of range and bad weights are refused; one class fits that class alone")
  func refusalsAndOneClass() throws {
    let data = try LogisticFixture.load("logistic_multiclass").train
    let trainer = LogisticRegression.SubsetTrainer(data)
    #expect(throws: ModelError.self) { try trainer.fit(rows: [], hyperparameters: H()) }
    #expect(throws: ModelError.self) { try trainer.fit(rows: [data.count], hyperparameters: H()) }
    #expect(throws: ModelError.self) {
      try trainer.fit(rows: [0, 1], sampleWeights: [1], hyperparameters: H())
    }
    #expect(throws: ModelError.self) {
      try trainer.fit(rows: [0, 1], sampleWeights: [1, 0], hyperparameters: H())
    }
    let label = data.labels[0]
    let same = (0..<data.count).filter { data.labels[$0] == label }
    let one = try trainer.fit(rows: same, hyperparameters: H())
    #expect(one.fittedClasses == [label])
  }

  @Test("sparse rows: a selection repeats and reorders rows and renames columns in order")
  func selectingRows() {
    let rows = SparseRows(SparseRowsTests.matrix)
    #expect(rows.usedColumns(inRows: [0, 2], width: 5) == [0, 1, 3, 4])
    #expect(rows.usedColumns(inRows: [1], width: 5) == [])
    // Columns 0, 1, 3, 4 → 0, 1, 2, 3 (column 2 is unused).
    let picked = rows.selecting(rows: [3, 0, 0], columnMap: [0, 1, -1, 2, 3])
    #expect(picked.starts == [0, 4, 6, 8])
    #expect(picked.columns == [0, 1, 2, 3, 1, 3, 1, 3])
    #expect(picked.values == [1, -2, 4, 7, 2, -1, 2, -1])
    #expect(picked.singleValues == picked.values.map { Float($0) })
  }

  @Test("predictions of training rows from the non-zeros equal the model's predict on those rows")
  func predictionsFromNonZeros() throws {
    let data = try LogisticFixture.load("logistic_multiclass").train
    let trainer = LogisticRegression.SubsetTrainer(data)
    let model = try trainer.fit(rows: Array(0..<(data.count / 2)), hyperparameters: H())
    let rows = Self.subset.filter { $0 < data.count } + Array(0..<data.count)
    #expect(
      trainer.predictions(of: model, rows: rows)
        == model.predict(data.features.selectingRows(rows)))
    // One fitted class: every row is that class.
    let label = data.labels[0]
    let one = try trainer.fit(
      rows: (0..<data.count).filter { data.labels[$0] == label }, hyperparameters: H())
    #expect(trainer.predictions(of: one, rows: rows).allSatisfy { $0 == label })
  }
}

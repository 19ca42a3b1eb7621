import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// scikit-learn's `KNeighborsClassifier(algorithm="brute")` on 150 digits of all ten classes,
/// queried with 40 others (Fixtures/scripts/make_linear_fixtures.py); no query has a distance tie
/// among its first k + 1 neighbours.
struct KNNFixture: Decodable {
  struct Case: Decodable {
    var k: Int
    var probabilities: [Double]
    var predictions: [Int]
    var neighbors: [Int]

    enum CodingKeys: String, CodingKey {
      case k, neighbors
      case probabilities = "predict_proba"
      case predictions = "predict"
    }
  }

  var classes: [Int]
  var featureCount: Int
  var trainPixels: [Int]
  var trainLabels: [Int]
  var testPixels: [Int]
  var cases: [Case]

  enum CodingKeys: String, CodingKey {
    case classes, cases
    case featureCount = "feature_count"
    case trainPixels = "train_pixels"
    case trainLabels = "train_labels"
    case testPixels = "test_pixels"
  }

  static func load() throws -> KNNFixture {
    try loadJSON(
      KNNFixture.self, from: TestPaths.fixtures("GlimpseModelsTests") + "/knn_digits.json")
  }

  var train: Dataset {
    let n = trainLabels.count
    return Dataset(
      features: Matrix(
        rows: n, columns: featureCount, storage: trainPixels.map { Double($0) / 255 }),
      labels: trainLabels, classNames: classes.map(String.init),
      sources: (0..<n).map { "row \($0)" })
  }

  var test: Matrix {
    Matrix(
      rows: testPixels.count / featureCount, columns: featureCount,
      storage: testPixels.map { Double($0) / 255 })
  }
}

@Suite("k nearest neighbours")
struct KNearestNeighborsTests {
  func fit(_ data: Dataset, k: Int) throws -> KNearestNeighbors {
    var rng = SeededGenerator(seed: 0)
    return try KNearestNeighbors.fit(data, hyperparameters: .init(k: k), using: &rng)
  }

  func points(_ points: [[Double]], _ labels: [Int], classes: Int) -> Dataset {
    LinearToy.dataset(points, labels, classes: classes)
  }

  @Test("probabilities, predictions and neighbour lists equal scikit-learn's exactly (k = 1, 5, 7)")
  func matchesScikitLearn() throws {
    let fixture = try KNNFixture.load()
    for reference in fixture.cases {
      let model = try fit(fixture.train, k: reference.k)
      // Counts over k are exact in binary for k = 1 and are the same quotient count / k in
      // both libraries, so equality is exact.
      #expect(model.predictProbabilities(fixture.test).storage == reference.probabilities)
      #expect(model.predict(fixture.test) == reference.predictions)
      #expect(
        model.neighbors(of: fixture.test, count: reference.k).flatMap { $0 }
          == reference.neighbors)
    }
  }

  @Test("pixel rows (k / 255): squared distances are the exact integer sums divided by 255²")
  func pixelDistancesAreExact() throws {
    let (queries, queryCodes) = PixelCodesTests.pixels(rows: 4, width: 784, seed: 5)
    let (training, trainingCodes) = PixelCodesTests.pixels(rows: 6, width: 784, seed: 6)
    let distances = KNearestNeighbors.pixelDistances(
      try #require(PixelCodes(queries)), try #require(PixelCodes(training)))
    for i in 0..<4 {
      for j in 0..<6 {
        let exact = zip(queryCodes[i], trainingCodes[j]).reduce(0) {
          $0 + ($1.0 - $1.1) * ($1.0 - $1.1)
        }
        #expect(distances[i, j] == Double(exact) / 65025, "query \(i), training row \(j)")
      }
    }
  }

  @Test("equally distant training rows: the lower training index counts as nearer")
  func tiesGoToLowerIndex() throws {
    // Four rows at distance 1 from the origin (exact in binary), then a farther one.
    let data = points(
      [[2, 0], [0, 1], [1, 0], [0, -1], [-1, 0]], [0, 1, 0, 1, 0], classes: 2)
    let model = try fit(data, k: 2)
    let origin = Matrix([[0, 0]])
    #expect(model.neighbors(of: origin, count: 4) == [[1, 2, 3, 4]])
    // k = 2 takes rows 1 (class 1) and 2 (class 0), not 3 or 4.
    #expect(model.predictProbabilities(origin).storage == [0.5, 0.5])
    // A 1–1 vote goes to the lower class index.
    #expect(model.predict(origin) == [0])
    let three = try fit(data, k: 3)
    let expected: [Double] = [1.0 / 3, 2.0 / 3]
    #expect(three.predictProbabilities(origin).storage == expected)
  }

  @Test("ties are also broken by index when k is large enough for the full sort")
  func tiesGoToLowerIndexWithFullSort() throws {
    let count = NeighborSelection.insertionLimit + 6
    // Rows alternate between distance 1 and 2 from the origin.
    let rows = (0..<count).map { index -> [Double] in index % 2 == 0 ? [1, 0] : [0, 2] }
    let model = try fit(points(rows, rows.indices.map { $0 % 2 }, classes: 2), k: count - 1)
    let order = model.neighbors(of: Matrix([[0, 0]]), count: count - 1)[0]
    let evens = Array(stride(from: 0, to: count, by: 2))
    let odds = Array(stride(from: 1, to: count, by: 2))
    #expect(order == evens + odds.dropLast())
  }

  @Test("neighbors(of:count:) lists training rows nearest first")
  func neighborOrder() throws {
    let data = points([[0], [5], [1], [3]], [0, 1, 0, 1], classes: 2)
    let model = try fit(data, k: 1)
    // Distances from 2.25: 2.25, 2.75, 1.25, 0.75; from −1: 1, 6, 2, 4.
    #expect(
      model.neighbors(of: Matrix([[2.25], [-1]]), count: 4) == [[3, 2, 0, 1], [0, 2, 3, 1]])
    #expect(model.neighbors(of: Matrix([[2.25]]), count: 2) == [[3, 2]])
    // More than there are rows: all of them.
    #expect(model.neighbors(of: Matrix([[2.25]]), count: 9) == [[3, 2, 0, 1]])
  }

  @Test("with k = 1 every distinct training row predicts its own label")
  func oneNeighborReproducesTrainingLabels() throws {
    let data = try KNNFixture.load().train
    let model = try fit(data, k: 1)
    #expect(model.predict(data.features) == data.labels)
    #expect(model.neighbors(of: data.features, count: 1).map { $0[0] } == Array(0..<data.count))
  }

  @Test("queries split over many GEMM blocks give the same neighbours as one block")
  func blockingDoesNotChangeResults() throws {
    let fixture = try KNNFixture.load()
    let model = try fit(fixture.train, k: 5)
    let whole = model.nearest(fixture.test, count: 5)
    // 7 query rows per block of 1050 distances: 6 blocks, the last one short.
    #expect(model.nearest(fixture.test, count: 5, blockDistances: 1050) == whole)
    #expect(model.nearest(fixture.test, count: 5, blockDistances: 1) == whole)
  }

  @Test("probabilities have one column per class name and sum to 1; absent classes get 0")
  func probabilitiesAreDistributions() throws {
    let fixture = try KNNFixture.load()
    var data = fixture.train
    data.classNames.append("absent")
    let p = try fit(data, k: 5).predictProbabilities(fixture.test)
    #expect(p.rows == fixture.test.rows && p.columns == 11)
    for row in 0..<p.rows {
      #expect(abs(p.row(row).reduce(0, +) - 1) < 1e-12)
      #expect(p[row, 10] == 0)
    }
  }

  @Test("k larger than the training set uses every row")
  func largeKUsesAllRows() throws {
    let data = points([[0], [1], [2]], [0, 1, 1], classes: 2)
    let model = try fit(data, k: 10)
    let third: Double = 1.0 / 3
    let twoThirds: Double = 2.0 / 3
    let expected: [Double] = [third, twoThirds, third, twoThirds]
    #expect(model.predictProbabilities(Matrix([[0], [5]])).storage == expected)
  }

  @Test("save, encode, decode and load give a model that predicts bit for bit the same")
  func archiveRoundTripPredictsIdentically() throws {
    let fixture = try KNNFixture.load()
    let model = try fit(fixture.train, k: 5)
    let loaded = try KNearestNeighbors(archive: ModelArchive(decoding: model.archive().encoded()))
    #expect(loaded.predictProbabilities(fixture.test) == model.predictProbabilities(fixture.test))
    #expect(loaded.hyperparameters == model.hyperparameters)
    #expect(loaded.trainingLabels == model.trainingLabels)
    var archive = model.archive()
    archive.integers["labels"] = [99] + archive.integers["labels", default: []].dropFirst()
    #expect(throws: ModelError.self) { try KNearestNeighbors(archive: archive) }
  }

  @Test("k < 1 is refused with invalidHyperparameter; a dataset without rows with unsuitableData")
  func invalidInputThrows() throws {
    let data = points([[0], [1]], [0, 1], classes: 2)
    #expect(
      throws: ModelError.invalidHyperparameter(
        name: "n_neighbors", value: "0", expected: "an integer ≥ 1")
    ) { try fit(data, k: 0) }
    #expect(throws: ModelError.self) { try fit(data, k: -3) }
    let empty = Dataset(
      features: Matrix(rows: 0, columns: 1), labels: [], classNames: ["a"], sources: [])
    #expect(throws: ModelError.unsuitableData("the dataset has no rows")) { try fit(empty, k: 1) }
  }
}

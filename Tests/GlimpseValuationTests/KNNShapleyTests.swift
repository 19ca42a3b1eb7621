import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import GlimpseValuation

/// Tolerance for comparisons with enumeration and pyDVL: values are sums of at most a few
/// thousand terms of size ≤ 1, each rounded once (≈ 1e-13 accumulated); 1e-9 leaves room
/// without hiding a wrong term (the smallest non-zero step, 1/(max(k, N)·M), exceeds 1e-5 here).
private let tolerance = 1e-9

@Suite("KNN-Shapley (Jia et al. 2019, Theorem 1)")
struct KNNShapleyTests {
  // MARK: (a) hand-solved

  @Test("Theorem 1 by hand: four points on a line, k = 1")
  func handSolvedLine() throws {
    // Validation x = 0 (class a); training 0 (a), 1 (b), 2 (a), 3 (a): nearest first.
    // s₄ = 1/4; s₃ = s₄ + (1 − 1)/3 = 1/4; s₂ = s₃ + (0 − 1)/2 = −1/4; s₁ = s₂ + (1 − 0)/1 = 3/4.
    let train = dataset([[0], [1], [2], [3]], labels: [0, 1, 0, 0])
    let valid = dataset([[0]], labels: [0])
    let result = try KNNShapley(k: 1).values(training: train, validation: valid)
    #expect(result.values == [0.75, -0.25, 0.25, 0.25])
    #expect(result.method == "knn")
    #expect(result.status == .exact)
    #expect(result.standardErrors == [0, 0, 0, 0])
    #expect(result.sampleCounts == [1, 1, 1, 1])
  }

  // MARK: (b) independent references

  @Test(
    "equals brute-force Shapley enumeration of the k-NN utility (continuous points)",
    arguments: [1, 3, 5], [UInt64(1), 2, 3])
  func matchesEnumeration(k: Int, seed: UInt64) throws {
    var rng = SeededGenerator(seed: seed)
    let n = 7 + Int(seed)  // 8, 9, 10 points
    let train = randomPoints(n, dimensions: 3, classes: 3, using: &rng)
    let valid = randomPoints(4, dimensions: 3, classes: 3, using: &rng)
    let values = try KNNShapley(k: k).values(training: train, validation: valid).values
    let exact = enumeratedShapley(k: k, training: train, validation: valid)
    #expect(maxAbsoluteDifference(values, exact) < tolerance)
  }

  @Test("equals ExactSemivalues' Shapley values of the same utility as a game", arguments: [1, 3])
  func matchesExactSemivalues(k: Int) throws {
    var rng = SeededGenerator(seed: 77)
    let train = randomPoints(9, dimensions: 2, classes: 2, using: &rng)
    let valid = randomPoints(5, dimensions: 2, classes: 2, using: &rng)
    let game = GameUtility(playerCount: train.count) { subset in
      kNNUtility(subset, k: k, training: train, validation: valid)
    }
    let exact = try ExactSemivalues.values(game, kind: .shapley).values
    let values = try KNNShapley(k: k).values(training: train, validation: valid).values
    #expect(maxAbsoluteDifference(values, exact) < tolerance)
  }

  @Test(
    "equals enumeration when many points tie (integer grid, ties to the lower index)",
    arguments: [1, 3, 5])
  func matchesEnumerationWithTies(k: Int) throws {
    // Coordinates in {0, 1, 2}²: distances are small integers, exact in the GEMM and in the
    // enumeration, so both break the many ties by training index.
    var rng = SeededGenerator(seed: 11 + UInt64(k))
    let grid = { (count: Int) -> [[Double]] in
      (0..<count).map { _ in (0..<2).map { _ in Double(rng.next() % 3) } }
    }
    let train = dataset(grid(10), labels: (0..<10).map { _ in Int(rng.next() % 2) })
    let valid = dataset(grid(5), labels: (0..<5).map { _ in Int(rng.next() % 2) })
    let values = try KNNShapley(k: k).values(training: train, validation: valid).values
    #expect(
      maxAbsoluteDifference(values, enumeratedShapley(k: k, training: train, validation: valid))
        < tolerance)
  }

  @Test("k larger than the training set: exact for the utility divided by k (enumeration)")
  func kLargerThanTrainingSet() throws {
    var rng = SeededGenerator(seed: 5)
    let train = randomPoints(5, dimensions: 2, classes: 2, using: &rng)
    let valid = randomPoints(3, dimensions: 2, classes: 2, using: &rng)
    let values = try KNNShapley(k: 8).values(training: train, validation: valid).values
    #expect(
      maxAbsoluteDifference(values, enumeratedShapley(k: 8, training: train, validation: valid))
        < tolerance)
    // With k ≥ N every point of S counts, so a point's value is its match rate divided by k.
    let rates = (0..<train.count).map { i in
      Double(valid.labels.filter { $0 == train.labels[i] }.count) / Double(valid.count) / 8
    }
    #expect(maxAbsoluteDifference(values, rates) < tolerance)
  }

  struct PyDVLFixture: Decodable {
    var pydvl: String
    var training: Int
    var validation: Int
    var values: [String: [Double]]
  }

  @Test("matches pyDVL 0.10 KNNShapleyValuation on 100 noisy anchor digits × 50 validation digits")
  func matchesPyDVL() throws {
    let folder = TestPaths.fixtures("GlimpseValuationTests")
    let fixture = try loadJSON(PyDVLFixture.self, from: folder + "/knn_pydvl.json")
    let digits = try TableDatasetReader.read(folder + "/knn_digits.csv.gz")
    // Pixels scaled to [0, 1] as in the fixture script (x / 255).
    #expect(digits.features.valueRange == 0...1)
    let train = digits.subset(0..<fixture.training)
    let valid = digits.subset(fixture.training..<(fixture.training + fixture.validation))
    #expect(fixture.values.keys.sorted() == ["1", "10", "3", "5"])
    for (kText, expected) in fixture.values {
      let k = try #require(Int(kText))
      let values = try KNNShapley(k: k).values(training: train, validation: valid).values
      #expect(maxAbsoluteDifference(values, expected) < tolerance, "k = \(k)")
    }
  }

  // MARK: (c) properties

  @Test("efficiency: values sum to U(D) − U(∅) on 200 points", arguments: [1, 5, 20])
  func efficiency(k: Int) throws {
    var rng = SeededGenerator(seed: 42)
    let train = randomPoints(200, dimensions: 5, classes: 4, using: &rng)
    let valid = randomPoints(30, dimensions: 5, classes: 4, using: &rng)
    let values = try KNNShapley(k: k).values(training: train, validation: valid).values
    let whole = kNNUtility(Array(0..<train.count), k: k, training: train, validation: valid)
    #expect(abs(values.reduce(0, +) - whole) < tolerance)
  }

  @Test("duplicate training points: the lower index counts as nearer")
  func duplicatesResolveToLowerIndex() throws {
    // Two copies of (1, 0) at distance 1 from the validation point (class 0), k = 1.
    // Mismatching copy first: s(p₁) = 1/2, s(p₀) = 1/2 + (0 − 1)/1 = −1/2.
    let valid = dataset([[0, 0]], labels: [0])
    let first = try KNNShapley(k: 1).values(
      training: dataset([[1, 0], [1, 0]], labels: [1, 0]), validation: valid)
    #expect(first.values == [-0.5, 0.5])
    // Matching copy first: s(p₁) = 0, s(p₀) = 0 + (1 − 0)/1 = 1.
    let swapped = try KNNShapley(k: 1).values(
      training: dataset([[1, 0], [1, 0]], labels: [0, 1]), validation: valid)
    #expect(swapped.values == [1, 0])
  }

  @Test("duplicates among many non-binary-exact points follow the lower index (GEMM path)")
  func duplicatesInLargerSet() throws {
    // Random coordinates (inexact sums in the GEMM); copies must still tie exactly and keep
    // index order. Points 17 and 250 are copies with different labels; so are 3 and 4. Distinct
    // points are far from ties, so a direct sort by Σ(a − b)² gives the same order.
    var rng = SeededGenerator(seed: 9)
    var rows = (0..<300).map { _ in (0..<6).map { _ in rng.nextUnitDouble() } }
    var labels = (0..<300).map { _ in Int(rng.next() % 3) }
    rows[250] = rows[17]
    labels[17] = 0
    labels[250] = 1
    rows[4] = rows[3]
    labels[3] = 2
    labels[4] = 0
    let train = dataset(rows, labels: labels)
    let valid = dataset(
      (0..<20).map { _ in (0..<6).map { _ in rng.nextUnitDouble() } },
      labels: (0..<20).map { _ in Int(rng.next() % 3) })
    for k in [1, 5] {
      let values = try KNNShapley(k: k).values(training: train, validation: valid).values
      let reference = recursionByDirectSort(k: k, training: train, validation: valid)
      #expect(maxAbsoluteDifference(values, reference) < 1e-12, "k = \(k)")
    }
  }

  @Test("8-bit pixels: an exact tie between distinct points goes to the lower index")
  func pixelTieIsExact() throws {
    // Codes: validation (10, 10); training (13, 14) and (15, 10), both at squared distance 25
    // codes² (9 + 16 = 25 + 0). As k / 255 values the Double path could round either way; the
    // pixel path compares exact integers. Mismatching point first: s = [1/2 − 1, 1/2].
    let valid = dataset([[10.0 / 255, 10.0 / 255]], labels: [0])
    let train = dataset([[13.0 / 255, 14.0 / 255], [15.0 / 255, 10.0 / 255]], labels: [1, 0])
    #expect(try KNNShapley(k: 1).values(training: train, validation: valid).values == [-0.5, 0.5])
    let swapped = dataset([[15.0 / 255, 10.0 / 255], [13.0 / 255, 14.0 / 255]], labels: [0, 1])
    #expect(try KNNShapley(k: 1).values(training: swapped, validation: valid).values == [1, 0])
  }

  @Test("8-bit pixel path (float32 codes) and Double path agree on the tie-free fixture digits")
  func pixelPathMatchesDoublePath() throws {
    let folder = TestPaths.fixtures("GlimpseValuationTests")
    let digits = try TableDatasetReader.read(folder + "/knn_digits.csv.gz")
    // Doubling every value keeps the order but leaves [0, 1], which forces the Double path.
    var doubled = digits
    doubled.features.storage = digits.features.storage.map { 2 * $0 }
    for k in [1, 5] {
      let pixel = try KNNShapley(k: k).values(
        training: digits.subset(0..<100), validation: digits.subset(100..<150)
      ).values
      let general = try KNNShapley(k: k).values(
        training: doubled.subset(0..<100), validation: doubled.subset(100..<150)
      ).values
      #expect(pixel == general, "k = \(k)")
    }
  }

  @Test("labels are matched by class name, not by class index")
  func labelsMatchedByName() throws {
    var rng = SeededGenerator(seed: 21)
    let train = randomPoints(12, dimensions: 2, classes: 3, using: &rng)
    let valid = randomPoints(6, dimensions: 2, classes: 3, using: &rng)
    // The same validation set with its classes listed in reverse order.
    let reversed = Dataset(
      features: valid.features, labels: valid.labels.map { 2 - $0 },
      classNames: ["c2", "c1", "c0"],
      sources: valid.sources)
    let a = try KNNShapley(k: 3).values(training: train, validation: valid).values
    let b = try KNNShapley(k: 3).values(training: train, validation: reversed).values
    #expect(a == b)
    #expect(a.contains { $0 != 0 })
  }

  @Test("progress rises to 1 over blocks")
  func progressReachesOne() throws {
    var rng = SeededGenerator(seed: 4)
    // 1000 validation rows at 128 per block: 8 blocks, reported in groups of 2 per thread.
    let train = randomPoints(50, dimensions: 2, classes: 2, using: &rng)
    let valid = randomPoints(1000, dimensions: 2, classes: 2, using: &rng)
    var reports: [Double] = []
    _ = try KNNShapley(k: 3).values(training: train, validation: valid) { reports.append($0) }
    #expect(reports.last == 1)
    #expect(reports.count >= 2)
    #expect(zip(reports, reports.dropFirst()).allSatisfy { $0 < $1 })
  }

  // MARK: (d) one test per Throws case

  @Test("k < 1 is refused")
  func refusesSmallK() {
    let points = dataset([[0], [1]], labels: [0, 1])
    #expect(throws: KNNShapleyError.invalidK(0)) {
      try KNNShapley(k: 0).values(training: points, validation: points)
    }
  }

  @Test("an empty validation set is refused")
  func refusesEmptyValidation() {
    let points = dataset([[0], [1]], labels: [0, 1])
    #expect(throws: KNNShapleyError.emptyValidation) {
      try KNNShapley(k: 1).values(training: points, validation: points.subset([Int]()))
    }
  }

  @Test("rows of different widths are refused")
  func refusesFeatureMismatch() {
    #expect(throws: KNNShapleyError.featureCountMismatch(training: 1, validation: 2)) {
      try KNNShapley(k: 1).values(
        training: dataset([[0], [1]], labels: [0, 1]), validation: dataset([[0, 0]], labels: [0]))
    }
  }

  @Test("a NaN feature is refused, naming the set and row")
  func refusesNonFinite() {
    #expect(throws: KNNShapleyError.nonFiniteFeature(set: "validation", row: 1)) {
      try KNNShapley(k: 1).values(
        training: dataset([[0], [1]], labels: [0, 1]),
        validation: dataset([[0], [.nan]], labels: [0, 1]))
    }
  }
}

// MARK: - Independent references

/// A dataset with classes "c0", "c1", … (as many as the largest label needs, at least 2).
private func dataset(_ rows: [[Double]], labels: [Int]) -> Dataset {
  let classCount = max(2, (labels.max() ?? 0) + 1)
  return Dataset(
    features: Matrix(rows), labels: labels,
    classNames: (0..<classCount).map { "c\($0)" }, sources: rows.indices.map { "row \($0)" })
}

private func randomPoints(
  _ count: Int, dimensions: Int, classes: Int, using rng: inout SeededGenerator
) -> Dataset {
  let rows = (0..<count).map { _ in (0..<dimensions).map { _ in rng.nextUnitDouble() } }
  let labels = (0..<count).map { _ in Int(rng.next() % UInt64(classes)) }
  return Dataset(
    features: Matrix(rows), labels: labels, classNames: (0..<classes).map { "c\($0)" },
    sources: rows.indices.map { "row \($0)" })
}

/// Σ (a − b)², summed directly (no GEMM).
private func directSquaredDistance(_ a: ArraySlice<Double>, _ b: ArraySlice<Double>) -> Double {
  zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
}

/// Indices of `subset` from nearest to farthest from validation row `v`; ties by index.
private func nearestFirst(_ subset: [Int], to v: Int, training: Dataset, validation: Dataset)
  -> [Int]
{
  let d = (0..<training.count).map {
    directSquaredDistance(training.features.row($0), validation.features.row(v))
  }
  return subset.sorted { (d[$0], $0) < (d[$1], $1) }
}

/// U(S) = mean over validation points of (1/k)·#{label matches among the min(k, |S|) nearest of
/// S}; U(∅) = 0 (Jia et al. 2019, eq. 4).
private func kNNUtility(_ subset: [Int], k: Int, training: Dataset, validation: Dataset) -> Double {
  guard !subset.isEmpty else { return 0 }
  var total = 0.0
  for v in 0..<validation.count {
    let nearest = nearestFirst(subset, to: v, training: training, validation: validation).prefix(k)
    total +=
      Double(nearest.filter { training.labels[$0] == validation.labels[v] }.count) / Double(k)
  }
  return total / Double(validation.count)
}

/// Shapley values by enumerating all 2ⁿ subsets: φᵢ = Σ_{S ∌ i} |S|!(n−|S|−1)!/n! · (U(S ∪ i) − U(S)).
private func enumeratedShapley(k: Int, training: Dataset, validation: Dataset) -> [Double] {
  let n = training.count
  let utilities = (0..<(1 << n)).map { mask in
    kNNUtility(
      (0..<n).filter { mask & (1 << $0) != 0 }, k: k, training: training, validation: validation)
  }
  let factorial = (0...n).map { m in (1...max(m, 1)).reduce(1.0) { $0 * Double($1) } }
  return (0..<n).map { i in
    var value = 0.0
    for mask in 0..<(1 << n) where mask & (1 << i) == 0 {
      let size = mask.nonzeroBitCount
      let weight = factorial[size] * factorial[n - size - 1] / factorial[n]
      value += weight * (utilities[mask | (1 << i)] - utilities[mask])
    }
    return value
  }
}

/// Theorem 1's recursion over a plain sort by (direct distance, index): a second, simple
/// implementation for sets too large to enumerate.
private func recursionByDirectSort(k: Int, training: Dataset, validation: Dataset) -> [Double] {
  let n = training.count
  var values = [Double](repeating: 0, count: n)
  for v in 0..<validation.count {
    let order = nearestFirst(Array(0..<n), to: v, training: training, validation: validation)
    let match = order.map { training.labels[$0] == validation.labels[v] ? 1.0 : 0.0 }
    var s = match[n - 1] / Double(n)
    values[order[n - 1]] += s
    for i in stride(from: n - 1, through: 1, by: -1) {
      s += (match[i - 1] - match[i]) / Double(k) * Double(min(k, i)) / Double(i)
      values[order[i - 1]] += s
    }
  }
  return values.map { $0 / Double(validation.count) }
}

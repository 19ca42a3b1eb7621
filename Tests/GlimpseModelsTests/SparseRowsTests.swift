import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("Sparse rows (logistic regression's products)")
struct SparseRowsTests {
  /// A 4 × 5 matrix with an empty row, an empty column and rows of 1 to 4 non-zeros.
  static let matrix = Matrix([
    [0, 2, 0, 0, -1],
    [0, 0, 0, 0, 0],
    [3, 0, 0, 0.5, 0],
    [1, -2, 0, 4, 7],
  ])

  /// The dense product `matrix · source` with `source` `[5, lanes]`, by the definition.
  static func denseProduct(_ source: [Double], lanes: Int) -> [Double] {
    var result = [Double](repeating: 0, count: matrix.rows * lanes)
    for r in 0..<matrix.rows {
      for j in 0..<matrix.columns {
        for k in 0..<lanes { result[r * lanes + k] += matrix[r, j] * source[j * lanes + k] }
      }
    }
    return result
  }

  @Test("the rows hold exactly the non-zero values, in column order, with row offsets")
  func storesNonZeros() {
    let rows = SparseRows(Self.matrix)
    #expect(rows.starts == [0, 2, 2, 4, 8])
    #expect(rows.columns == [1, 4, 0, 3, 0, 1, 3, 4])
    #expect(rows.values == [2, -1, 3, 0.5, 1, -2, 4, 7])
  }

  @Test("the transpose lists each column's rows in increasing order")
  func transposeIsTheColumns() {
    let columns = SparseRows(Self.matrix).transposed(columns: 5)
    #expect(columns.starts == [0, 2, 4, 4, 6, 8])
    #expect(columns.columns == [2, 3, 0, 3, 2, 3, 0, 3])
    #expect(columns.values == [3, 1, 2, -2, 0.5, 4, -1, 7])
  }

  @Test(
    "the product equals the dense product for every SIMD pass (lanes 2 to 18)",
    arguments: [2, 4, 6, 8, 10, 12, 14, 18])
  func productMatchesDense(lanes: Int) {
    // Small integers: every product and sum is exact, so any order gives the same bits.
    let source = (0..<(5 * lanes)).map { Double(($0 * 7) % 11) - 5 }
    var target = [Double](repeating: .nan, count: 4 * lanes)
    source.withUnsafeBufferPointer { s in
      target.withUnsafeMutableBufferPointer { t in
        guard let s = s.baseAddress, let t = t.baseAddress else { return }
        SparseRows(Self.matrix).multiply(s, lanes: lanes, into: t)
      }
    }
    #expect(target == Self.denseProduct(source, lanes: lanes))
  }

  @Test("row lengths are the class count rounded up to an even number, at least 2")
  func lanesAreEven() {
    #expect([1, 2, 3, 9, 10, 11].map(SparseRows.lanes(for:)) == [2, 2, 4, 10, 10, 12])
  }

  @Test(
    "the objective and its gradient are the same with sparse and dense products (digit pixels, 1e-12)"
  )
  func sparseObjectiveEqualsDense() throws {
    // Only the order of additions differs: relative differences are rounding, ~1e-15.
    let data = try LogisticFixture.load("logistic_multiclass").train
    let classes = data.classNames.count
    for fitIntercept in [true, false] {
      let objectives = [true, false].map { sparse in
        SoftmaxObjective(
          features: data.features, labels: data.labels, classCount: classes, c: 0.7,
          fitIntercept: fitIntercept, sparse: sparse)
      }
      #expect(objectives[0].sparseFeatures != nil && objectives[1].sparseFeatures == nil)
      let theta = randomValues(objectives[0].parameterCount, seed: 9).map { 0.2 * $0 - 0.1 }
      var gradients = [[Double]](
        repeating: [Double](repeating: 0, count: theta.count), count: 2)
      let values = (0..<2).map { objectives[$0].evaluate(theta, &gradients[$0]) }
      #expect(abs(values[0] - values[1]) <= 1e-12 * abs(values[1]))
      let scale = gradients[1].map(abs).max() ?? 1
      #expect(maxAbsoluteDifference(gradients[0], gradients[1]) <= 1e-12 * scale)
    }
  }

  @Test(
    "the single-precision product equals the dense Double product to Float rounding (lanes 2 to 18)",
    arguments: [2, 4, 6, 8, 10, 12, 14, 18])
  func singlePrecisionProductMatchesDense(lanes: Int) {
    // Integers below 2²⁴ are exact in Float: the single-precision product must give the same
    // values as the definition, bit for bit once converted.
    let source = (0..<(5 * lanes)).map { Double(($0 * 7) % 11) - 5 }
    let single = source.map { Float($0) }
    var target = [Float](repeating: .nan, count: 4 * lanes)
    single.withUnsafeBufferPointer { s in
      target.withUnsafeMutableBufferPointer { t in
        guard let s = s.baseAddress, let t = t.baseAddress else { return }
        SparseRows(Self.matrix).multiply(s, lanes: lanes, into: t)
      }
    }
    #expect(target.map { Double($0) } == Self.denseProduct(source, lanes: lanes))
  }

  @Test(
    "the objective on single-precision products is within Float rounding of the Double one (digit pixels, 1e-5)"
  )
  func singlePrecisionObjectiveIsClose() throws {
    let data = try LogisticFixture.load("logistic_multiclass").train
    let objective = SoftmaxObjective(
      features: data.features, labels: data.labels, classCount: data.classNames.count, c: 0.7,
      fitIntercept: true, sparse: true)
    let theta = randomValues(objective.parameterCount, seed: 9).map { 0.2 * $0 - 0.1 }
    var gradients = [[Double]](
      repeating: [Double](repeating: 0, count: theta.count), count: 2)
    let double = objective.evaluate(theta, &gradients[0])
    objective.singlePrecisionProducts = true
    let single = objective.evaluate(theta, &gradients[1])
    #expect(abs(single - double) <= 1e-5 * abs(double))
    let scale = gradients[0].map(abs).max() ?? 1
    let difference = maxAbsoluteDifference(gradients[0], gradients[1])
    #expect(difference <= 1e-5 * scale)
    // Not the same bits: the Float path really ran.
    #expect(difference > 0)
  }
}

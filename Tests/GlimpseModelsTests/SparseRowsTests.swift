import CKernels
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

#if canImport(Glibc)
  import Glibc
#endif

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

  /// The kernel variants this CPU runs: the baseline, and AVX2 with FMA where supported.
  static let variants: [glimpse_kernel_variant] =
    glimpse_kernel_avx2_fma_supported() != 0
    ? [glimpse_kernel_baseline, glimpse_kernel_avx2_fma] : [glimpse_kernel_baseline]

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
    "the product equals the dense product for every SIMD pass and kernel variant (lanes 2 to 18)",
    arguments: [2, 4, 6, 8, 10, 12, 14, 18])
  func productMatchesDense(lanes: Int) {
    // Small integers: every product and sum is exact (fused or not), so any order gives the
    // same bits.
    let source = (0..<(5 * lanes)).map { Double(($0 * 7) % 11) - 5 }
    for variant in Self.variants {
      var target = [Double](repeating: .nan, count: 4 * lanes)
      source.withUnsafeBufferPointer { s in
        target.withUnsafeMutableBufferPointer { t in
          guard let s = s.baseAddress, let t = t.baseAddress else { return }
          SparseRows(Self.matrix).multiply(s, lanes: lanes, into: t, variant: variant)
        }
      }
      #expect(target == Self.denseProduct(source, lanes: lanes), "variant \(variant.rawValue)")
    }
  }

  @Test(
    "both kernel variants give the product of random sparse rows to rounding (Float 1e-5, Double 1e-13)",
    arguments: [2, 10, 12, 18])
  func variantsAgreeOnRandomRows(lanes: Int) {
    // 37 rows of 50 columns, ~30 % non-zero, values in [-1, 1): sums of ~15 terms, where
    // multiply-then-add and fused multiply-add differ only in rounding.
    let (rows, columns) = (37, 50)
    let entries = randomValues(rows * columns, seed: 4)
    let mask = randomValues(rows * columns, seed: 5)
    var matrix = Matrix(rows: rows, columns: columns)
    for i in 0..<(rows * columns) where mask[i] < 0.3 { matrix.storage[i] = 2 * entries[i] - 1 }
    let sparse = SparseRows(matrix)
    let source = randomValues(columns * lanes, seed: 6).map { 2 * $0 - 1 }
    var exact = [Double](repeating: 0, count: rows * lanes)
    for r in 0..<rows {
      for j in 0..<columns {
        for k in 0..<lanes { exact[r * lanes + k] += matrix[r, j] * source[j * lanes + k] }
      }
    }
    let scale = exact.map(abs).max() ?? 1
    for variant in Self.variants {
      var double = [Double](repeating: .nan, count: rows * lanes)
      var single = [Float](repeating: .nan, count: rows * lanes)
      let singleSource = source.map { Float($0) }
      source.withUnsafeBufferPointer { s in
        double.withUnsafeMutableBufferPointer { t in
          sparse.multiply(s.baseAddress!, lanes: lanes, into: t.baseAddress!, variant: variant)
        }
      }
      singleSource.withUnsafeBufferPointer { s in
        single.withUnsafeMutableBufferPointer { t in
          sparse.multiply(s.baseAddress!, lanes: lanes, into: t.baseAddress!, variant: variant)
        }
      }
      #expect(maxAbsoluteDifference(double, exact) <= 1e-13 * scale, "variant \(variant.rawValue)")
      #expect(
        maxAbsoluteDifference(single.map { Double($0) }, exact) <= 1e-5 * scale,
        "variant \(variant.rawValue)")
    }
  }

  @Test("products use AVX2 with FMA exactly when the CPU has them (unless GLIMPSE_SIMD=baseline)")
  func defaultVariantFollowsTheCPU() {
    let forced = getenv("GLIMPSE_SIMD").map { String(cString: $0) } == "baseline"
    let expected =
      glimpse_kernel_avx2_fma_supported() != 0 && !forced
      ? glimpse_kernel_avx2_fma : glimpse_kernel_baseline
    #expect(SparseRows.kernelVariant == expected)
  }

  @Test("one row's product into a buffer of its own equals that row of the whole product")
  func singleRowProduct() {
    let lanes = 6
    let source = (0..<(5 * lanes)).map { Double(($0 * 5) % 13) - 6 }
    let whole = Self.denseProduct(source, lanes: lanes)
    let rows = SparseRows(Self.matrix)
    for r in 0..<Self.matrix.rows {
      var row = [Double](repeating: .nan, count: lanes)
      rows.multiply(source, lanes: lanes, row: r, into: &row)
      #expect(row == Array(whole[(r * lanes)..<((r + 1) * lanes)]), "row \(r)")
    }
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
    for variant in Self.variants {
      var target = [Float](repeating: .nan, count: 4 * lanes)
      single.withUnsafeBufferPointer { s in
        target.withUnsafeMutableBufferPointer { t in
          guard let s = s.baseAddress, let t = t.baseAddress else { return }
          SparseRows(Self.matrix).multiply(s, lanes: lanes, into: t, variant: variant)
        }
      }
      #expect(
        target.map { Double($0) } == Self.denseProduct(source, lanes: lanes),
        "variant \(variant.rawValue)")
    }
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

import CKernels
import GlimpseCore

// Implementation notes
// 1. The product's inner loop is C (`CKernels`, SparseProduct.c: a target row summed in vector
//    registers, two interleaved chains, two vector widths per pass), compiled both for baseline
//    x86-64 and for AVX2 with FMA and chosen once from the CPU: Swift can only build a whole
//    module for one instruction set, and building for AVX2 would trap on older processors. The
//    AVX2 variant cut a Data-OOB bag of the anchor digits by ~23 %.
// 2. Rows of the product are split across `Parallelism.threadCount` threads when there is
//    enough work; each row is written by one thread, so the result does not depend on the
//    thread count.

/// The non-zero values of a matrix, row by row (compressed sparse rows): row i's values are
/// `values[starts[i]..<starts[i + 1]]`, in columns `columns[…]`, ascending.
struct SparseRows: Sendable {
  /// `rows + 1` offsets into `columns` and `values`.
  let starts: [Int]
  /// The column of each non-zero value.
  let columns: [Int32]
  /// The non-zero values.
  let values: [Double]
  /// The non-zero values rounded to `Float`, for single-precision products.
  let singleValues: [Float]

  /// The number of rows.
  var rows: Int { starts.count - 1 }

  /// The non-zero values of `matrix`.
  init(_ matrix: Matrix) {
    precondition(matrix.columns <= Int(Int32.max), "too many columns (\(matrix.columns))")
    let (rows, width) = (matrix.rows, matrix.columns)
    var starts = [Int](repeating: 0, count: rows + 1)
    var columns: [Int32] = []
    var values: [Double] = []
    matrix.storage.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      for r in 0..<rows {
        let row = base + r * width
        for j in 0..<width where row[j] != 0 {
          columns.append(Int32(j))
          values.append(row[j])
        }
        starts[r + 1] = values.count
      }
    }
    self.init(starts: starts, columns: columns, values: values)
  }

  private init(starts: [Int], columns: [Int32], values: [Double]) {
    self.starts = starts
    self.columns = columns
    self.values = values
    singleValues = values.map { Float($0) }
  }

  /// The transpose (the matrix by columns), for a matrix of `columns` columns.
  func transposed(columns count: Int) -> SparseRows {
    precondition(rows <= Int(Int32.max), "too many rows (\(rows))")
    var starts = [Int](repeating: 0, count: count + 1)
    for column in columns { starts[Int(column) + 1] += 1 }
    for j in 0..<count { starts[j + 1] += starts[j] }
    var next = Array(starts.dropLast())
    var rowIndex = [Int32](repeating: 0, count: values.count)
    var transposedValues = [Double](repeating: 0, count: values.count)
    // Rows in increasing order, so each column lists its rows ascending.
    for r in 0..<rows {
      for p in self.starts[r]..<self.starts[r + 1] {
        let j = Int(columns[p])
        rowIndex[next[j]] = Int32(r)
        transposedValues[next[j]] = values[p]
        next[j] += 1
      }
    }
    return SparseRows(starts: starts, columns: rowIndex, values: transposedValues)
  }

  /// The columns with a non-zero value in one of `rows`, ascending, for a matrix `width` wide.
  func usedColumns(inRows rows: [Int], width: Int) -> [Int] {
    var used = [Bool](repeating: false, count: width)
    for r in rows {
      for p in starts[r]..<starts[r + 1] { used[Int(columns[p])] = true }
    }
    return used.indices.filter { used[$0] }
  }

  /// The rows `rows`, in that order (a row may repeat), with column j renamed `columnMap[j]`.
  /// The map must send every column these rows use to a new index, keeping their order, so
  /// each row's columns stay ascending.
  func selecting(rows: [Int], columnMap: [Int32]) -> SparseRows {
    var newStarts = [Int](repeating: 0, count: rows.count + 1)
    for (i, r) in rows.enumerated() { newStarts[i + 1] = newStarts[i] + starts[r + 1] - starts[r] }
    let total = newStarts[rows.count]
    var newColumns = [Int32](repeating: 0, count: total)
    var newValues = [Double](repeating: 0, count: total)
    for (i, r) in rows.enumerated() {
      var q = newStarts[i]
      for p in starts[r]..<starts[r + 1] {
        newColumns[q] = columnMap[Int(columns[p])]
        newValues[q] = values[p]
        q += 1
      }
    }
    return SparseRows(starts: newStarts, columns: newColumns, values: newValues)
  }

  /// The row length for `count` values: `count` rounded up to an even number (≥ 2).
  static func lanes(for count: Int) -> Int { max(2, (count + 1) / 2 * 2) }

  /// `target = self · source`: row r of `target` is Σ values[p] · source row columns[p], over the
  /// non-zeros p of row r, in `S`: `Double`, or `Float` with the values rounded to `Float`
  /// (relative error ≤ 2⁻²⁴ each) and every sum accumulated in `Float`, half the bytes per loaded
  /// row and twice the lanes per SIMD register (~1.7 times as fast).
  ///
  /// - Parameters:
  ///   - source: `[columns of self, lanes]`, row-major.
  ///   - lanes: The row length of `source` and `target`, even (`lanes(for:)`).
  ///   - target: `[rows, lanes]`, every value written.
  ///   - variant: The kernel variant (`CKernels.h`); by default AVX2 with FMA where the CPU has
  ///     them (fused multiply-adds, so the last bits may differ from the baseline's).
  func multiply<S: SparseScalar>(
    _ source: UnsafePointer<S>, lanes: Int, into target: UnsafeMutablePointer<S>,
    variant: glimpse_kernel_variant = SparseRows.kernelVariant
  ) {
    precondition(lanes >= 2 && lanes % 2 == 0, "lanes (\(lanes)) must be even and ≥ 2")
    let values = S.values(of: self)
    let work = (values.count + rows) * lanes
    starts.withUnsafeBufferPointer { s in
      columns.withUnsafeBufferPointer { c in
        values.withUnsafeBufferPointer { v in
          guard let s = s.baseAddress else { return }
          // Empty matrices have no non-zeros: their loops never read these.
          guard let c = c.baseAddress, let v = v.baseAddress else {
            for r in 0..<rows { (target + r * lanes).update(repeating: 0, count: lanes) }
            return
          }
          let pointers = UncheckedSendable((s, c, v, source, target))
          forEachRange(rows, costPerItem: max(1, work / max(rows, 1))) { range in
            let (s, c, v, source, target) = pointers.value
            S.sparseProduct(
              starts: s, columns: c, values: v, source: source, lanes: lanes,
              target: target + range.lowerBound * lanes, rows: range, variant: variant)
          }
        }
      }
    }
  }

  /// Row `row` of `self · source` (`source` `[columns of self, lanes]`, row-major) into
  /// `target`'s first `lanes` values, as `multiply` computes it, in Double on this thread.
  func multiply(_ source: [Double], lanes: Int, row: Int, into target: inout [Double]) {
    precondition(lanes >= 2 && lanes % 2 == 0 && target.count >= lanes, "lanes (\(lanes))")
    precondition((0..<rows).contains(row), "row \(row) of \(rows)")
    starts.withUnsafeBufferPointer { s in
      columns.withUnsafeBufferPointer { c in
        values.withUnsafeBufferPointer { v in
          source.withUnsafeBufferPointer { x in
            target.withUnsafeMutableBufferPointer { t in
              guard let s = s.baseAddress, let x = x.baseAddress, let t = t.baseAddress else {
                return
              }
              guard let c = c.baseAddress, let v = v.baseAddress else {
                t.update(repeating: 0, count: lanes)
                return
              }
              Double.sparseProduct(
                starts: s, columns: c, values: v, source: x, lanes: lanes, target: t,
                rows: row..<(row + 1), variant: Self.kernelVariant)
            }
          }
        }
      }
    }
  }

  /// The variant sparse products use: the process's (`KernelVariant.current`).
  static var kernelVariant: glimpse_kernel_variant { KernelVariant.current }
}

/// The scalars sparse products run in: each picks its copy of a matrix's non-zero values and
/// its C kernel.
protocol SparseScalar: SIMDScalar, BinaryFloatingPoint, Codable {
  /// `rows`' non-zero values in this type.
  static func values(of rows: SparseRows) -> [Self]

  /// Rows `rows` of the product into `target`, row `rows.lowerBound` first
  /// (`glimpse_sparse_product_f32` or `_f64`).
  static func sparseProduct(
    starts: UnsafePointer<Int>, columns: UnsafePointer<Int32>, values: UnsafePointer<Self>,
    source: UnsafePointer<Self>, lanes: Int, target: UnsafeMutablePointer<Self>,
    rows: Range<Int>, variant: glimpse_kernel_variant)
}

extension Double: SparseScalar {
  static func values(of rows: SparseRows) -> [Double] { rows.values }

  static func sparseProduct(
    starts: UnsafePointer<Int>, columns: UnsafePointer<Int32>, values: UnsafePointer<Double>,
    source: UnsafePointer<Double>, lanes: Int, target: UnsafeMutablePointer<Double>,
    rows: Range<Int>, variant: glimpse_kernel_variant
  ) {
    starts.withMemoryRebound(to: Int64.self, capacity: rows.upperBound + 1) { starts in
      glimpse_sparse_product_f64(
        starts, columns, values, source, lanes, target, rows.lowerBound, rows.upperBound,
        variant)
    }
  }
}

extension Float: SparseScalar {
  static func values(of rows: SparseRows) -> [Float] { rows.singleValues }

  static func sparseProduct(
    starts: UnsafePointer<Int>, columns: UnsafePointer<Int32>, values: UnsafePointer<Float>,
    source: UnsafePointer<Float>, lanes: Int, target: UnsafeMutablePointer<Float>,
    rows: Range<Int>, variant: glimpse_kernel_variant
  ) {
    starts.withMemoryRebound(to: Int64.self, capacity: rows.upperBound + 1) { starts in
      glimpse_sparse_product_f32(
        starts, columns, values, source, lanes, target, rows.lowerBound, rows.upperBound,
        variant)
    }
  }
}

import GlimpseCore

// Implementation notes
// 1. A row of the product is a sum of short dense rows of the right factor (one per non-zero),
//    kept in SIMD registers for the whole row and stored once: no read-modify-write of the
//    output per non-zero, whose store-to-load chain was the bottleneck of a plain loop.
// 2. Two sets of accumulators take alternate non-zeros, so consecutive additions do not wait on
//    each other (add latency, not throughput, bounds a single chain); they are added at the
//    end. The order of additions is fixed by the data, not by the thread count.
// 3. The right factor's rows are `lanes` values (an even number), covered by SIMD8, SIMD4 and
//    SIMD2 vectors, two widths per pass (10 classes: 8 + 2 in one pass), so every load is a
//    whole vector and each index is read once per pass.
// 4. Rows of the product are split across `Parallelism.threadCount` threads when there is
//    enough work; each row is written by one thread.

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
  func multiply<S: SparseScalar>(
    _ source: UnsafePointer<S>, lanes: Int, into target: UnsafeMutablePointer<S>
  ) {
    product(S.values(of: self), source, lanes: lanes, into: target)
  }

  private func product<S: SIMDScalar & BinaryFloatingPoint>(
    _ values: [S], _ source: UnsafePointer<S>, lanes: Int, into target: UnsafeMutablePointer<S>
  ) {
    precondition(lanes >= 2 && lanes % 2 == 0, "lanes (\(lanes)) must be even and ≥ 2")
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
          let kernel = SparseKernel(
            starts: s, columns: c, values: v, source: source, target: target, lanes: lanes)
          forEachRange(rows, costPerItem: max(1, work / max(rows, 1))) { range in
            // Two vector widths per pass over the non-zeros where the lanes allow (10 classes:
            // 8 + 2 in one pass), so each index and value is loaded once for both.
            var offset = 0
            while offset < lanes {
              switch lanes - offset {
              case 16...:
                kernel.run(SIMD8<S>.self, SIMD8<S>.self, rows: range, offset: offset)
                offset += 16
              case 12...:
                kernel.run(SIMD8<S>.self, SIMD4<S>.self, rows: range, offset: offset)
                offset += 12
              case 10:
                kernel.run(SIMD8<S>.self, SIMD2<S>.self, rows: range, offset: offset)
                offset += 10
              case 8:
                kernel.run(SIMD4<S>.self, SIMD4<S>.self, rows: range, offset: offset)
                offset += 8
              case 6:
                kernel.run(SIMD4<S>.self, SIMD2<S>.self, rows: range, offset: offset)
                offset += 6
              case 4:
                kernel.run(SIMD2<S>.self, SIMD2<S>.self, rows: range, offset: offset)
                offset += 4
              default:
                kernel.run(SIMD2<S>.self, rows: range, offset: offset)
                offset += 2
              }
            }
          }
        }
      }
    }
  }
}

/// The pointers of one sparse product, shared by the threads that compute its rows.
private struct SparseKernel<S: SIMDScalar & BinaryFloatingPoint>: @unchecked Sendable {
  let starts: UnsafePointer<Int>
  let columns: UnsafePointer<Int32>
  let values: UnsafePointer<S>
  let source: UnsafePointer<S>
  let target: UnsafeMutablePointer<S>
  let lanes: Int

  /// Lanes `offset..<offset + V.scalarCount` of the target's `rows`.
  @inline(__always)
  func run<V: SIMD>(_: V.Type, rows: Range<Int>, offset: Int) where V.Scalar == S {
    let base = UnsafeRawPointer(source + offset)
    let stride = lanes * MemoryLayout<S>.stride
    for r in rows {
      var even = V()
      var odd = V()
      var p = starts[r]
      let end = starts[r + 1]
      while p + 2 <= end {
        even +=
          values[p]
          * base.loadUnaligned(fromByteOffset: Int(columns[p]) * stride, as: V.self)
        odd +=
          values[p + 1]
          * base.loadUnaligned(fromByteOffset: Int(columns[p + 1]) * stride, as: V.self)
        p += 2
      }
      if p < end {
        even += values[p] * base.loadUnaligned(fromByteOffset: Int(columns[p]) * stride, as: V.self)
      }
      UnsafeMutableRawPointer(target + r * lanes + offset).storeBytes(
        of: even + odd, as: V.self)
    }
  }

  /// Lanes `offset..<offset + V.scalarCount + W.scalarCount` of the target's `rows`, in one
  /// pass: V's lanes first, then W's.
  @inline(__always)
  func run<V: SIMD, W: SIMD>(_: V.Type, _: W.Type, rows: Range<Int>, offset: Int)
  where V.Scalar == S, W.Scalar == S {
    let base = UnsafeRawPointer(source + offset)
    let tail = UnsafeRawPointer(source + offset + V.scalarCount)
    let stride = lanes * MemoryLayout<S>.stride
    for r in rows {
      var even = V()
      var odd = V()
      var evenTail = W()
      var oddTail = W()
      var p = starts[r]
      let end = starts[r + 1]
      while p + 2 <= end {
        let (a, b) = (values[p], values[p + 1])
        let (i, j) = (Int(columns[p]) * stride, Int(columns[p + 1]) * stride)
        even += a * base.loadUnaligned(fromByteOffset: i, as: V.self)
        evenTail += a * tail.loadUnaligned(fromByteOffset: i, as: W.self)
        odd += b * base.loadUnaligned(fromByteOffset: j, as: V.self)
        oddTail += b * tail.loadUnaligned(fromByteOffset: j, as: W.self)
        p += 2
      }
      if p < end {
        let (a, i) = (values[p], Int(columns[p]) * stride)
        even += a * base.loadUnaligned(fromByteOffset: i, as: V.self)
        evenTail += a * tail.loadUnaligned(fromByteOffset: i, as: W.self)
      }
      let row = UnsafeMutableRawPointer(target + r * lanes + offset)
      row.storeBytes(of: even + odd, as: V.self)
      row.storeBytes(
        of: evenTail + oddTail, toByteOffset: V.scalarCount * MemoryLayout<S>.stride,
        as: W.self)
    }
  }
}

/// The scalars sparse products run in: each picks its copy of a matrix's non-zero values.
protocol SparseScalar: SIMDScalar, BinaryFloatingPoint, Codable {
  /// `rows`' non-zero values in this type.
  static func values(of rows: SparseRows) -> [Self]
}

extension Double: SparseScalar {
  static func values(of rows: SparseRows) -> [Double] { rows.values }
}

extension Float: SparseScalar {
  static func values(of rows: SparseRows) -> [Float] { rows.singleValues }
}

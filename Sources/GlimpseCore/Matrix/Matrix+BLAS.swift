import CBLAS

// The only file of GlimpseCore that talks to OpenBLAS and LAPACK.

/// Process-wide settings of the BLAS library (OpenBLAS).
public enum BLAS {
  /// Threads OpenBLAS uses for one call. Benchmarks state it; parallel callers cap it at 1 so
  /// that cores are not oversubscribed.
  public static var threadCount: Int { Int(openblas_get_num_threads()) }

  /// Sets the number of threads OpenBLAS uses for each call (process-wide).
  public static func setThreadCount(_ count: Int) {
    precondition(count >= 1, "BLAS thread count (\(count)) must be ≥ 1")
    openblas_set_num_threads(Int32(count))
  }

  /// The CPU kernel OpenBLAS picked at load time (for benchmark reports).
  public static var coreName: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
  }
}

extension Matrix {
  /// `C ← alpha · op(A) · op(B) + beta · C` with one `cblas_dgemm` call.
  ///
  /// - Parameters:
  ///   - a: `[m, k]`, or `[k, m]` when `transposeA`.
  ///   - b: `[k, n]`, or `[n, k]` when `transposeB`.
  ///   - c: `[m, n]`; read only when `beta != 0`.
  public static func multiply(
    _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
    alpha: Double = 1, beta: Double = 0, into c: inout Matrix
  ) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let kB = transposeB ? b.columns : b.rows
    let n = transposeB ? b.rows : b.columns
    precondition(k == kB, "inner dimensions differ: op(A) is \(m)×\(k), op(B) is \(kB)×\(n)")
    precondition(
      c.rows == m && c.columns == n, "C is \(c.rows)×\(c.columns), expected \(m)×\(n)")
    guard m > 0, n > 0 else { return }
    if k == 0 {
      for index in c.storage.indices { c.storage[index] *= beta }
      return
    }
    let cColumns = c.columns
    a.storage.withUnsafeBufferPointer { pa in
      b.storage.withUnsafeBufferPointer { pb in
        c.storage.withUnsafeMutableBufferPointer { pc in
          cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha,
            pa.baseAddress, Int32(max(a.columns, 1)), pb.baseAddress, Int32(max(b.columns, 1)),
            beta, pc.baseAddress, Int32(max(cColumns, 1)))
        }
      }
    }
  }

  /// The product `op(A) · op(B)` as a new matrix.
  public static func product(
    _ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false
  ) -> Matrix {
    var c = Matrix(
      rows: transposeA ? a.columns : a.rows, columns: transposeB ? b.rows : b.columns)
    multiply(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
    return c
  }

  /// Solves `A · X = B` for square `A` by LU with partial pivoting (LAPACK `dgesv`).
  ///
  /// - Parameters:
  ///   - a: `[n, n]`.
  ///   - b: `[n, r]`, one right-hand side per column.
  /// - Returns: `X`, `[n, r]`, or `nil` when `A` is exactly singular.
  public static func solve(_ a: Matrix, _ b: Matrix) -> Matrix? {
    precondition(a.rows == a.columns, "A is \(a.rows)×\(a.columns), expected square")
    precondition(b.rows == a.rows, "B has \(b.rows) rows, A has \(a.rows)")
    let n = a.rows
    guard n > 0 else { return b }
    var lu = a.storage
    var x = b.storage
    var pivots = [Int32](repeating: 0, count: n)
    let info = lu.withUnsafeMutableBufferPointer { plu in
      x.withUnsafeMutableBufferPointer { px in
        pivots.withUnsafeMutableBufferPointer { pp in
          LAPACKE_dgesv(
            LAPACK_ROW_MAJOR, Int32(n), Int32(b.columns), plu.baseAddress, Int32(n),
            pp.baseAddress, px.baseAddress, Int32(max(b.columns, 1)))
        }
      }
    }
    precondition(info >= 0, "LAPACKE_dgesv rejected argument \(-info)")
    return info == 0 ? Matrix(rows: n, columns: b.columns, storage: x) : nil
  }

  /// Solves `A · X = B` for symmetric positive-definite `A` by Cholesky (LAPACK `dposv`).
  ///
  /// - Returns: `X`, `[n, r]`, or `nil` when `A` is not positive definite.
  public static func solveSymmetricPositiveDefinite(_ a: Matrix, _ b: Matrix) -> Matrix? {
    precondition(a.rows == a.columns, "A is \(a.rows)×\(a.columns), expected square")
    precondition(b.rows == a.rows, "B has \(b.rows) rows, A has \(a.rows)")
    let n = a.rows
    guard n > 0 else { return b }
    var factor = a.storage
    var x = b.storage
    let info = factor.withUnsafeMutableBufferPointer { pf in
      x.withUnsafeMutableBufferPointer { px in
        LAPACKE_dposv(
          LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), Int32(b.columns), pf.baseAddress,
          Int32(n), px.baseAddress, Int32(max(b.columns, 1)))
      }
    }
    precondition(info >= 0, "LAPACKE_dposv rejected argument \(-info)")
    return info == 0 ? Matrix(rows: n, columns: b.columns, storage: x) : nil
  }

  /// Squared Euclidean norm of every row, `[rows]`.
  public func rowSquaredNorms() -> [Double] {
    var norms = [Double](repeating: 0, count: rows)
    storage.withUnsafeBufferPointer { p in
      guard let base = p.baseAddress else { return }
      for r in 0..<rows {
        let row = base + r * columns
        norms[r] = cblas_ddot(Int32(columns), row, 1, row, 1)
      }
    }
    return norms
  }
}

import CBLAS

// Level-1 and level-2 BLAS on plain `[Double]` vectors: what iterative solvers (L-BFGS) do to
// their parameter vectors between two GEMM-bound function evaluations.

extension BLAS {
  /// The dot product `xᵀy` (`cblas_ddot`).
  /// - Precondition: `x.count == y.count`.
  public static func dot(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "x.count (\(x.count)) != y.count (\(y.count))")
    guard !x.isEmpty else { return 0 }
    return x.withUnsafeBufferPointer { px in
      y.withUnsafeBufferPointer { py in
        cblas_ddot(Int32(x.count), px.baseAddress, 1, py.baseAddress, 1)
      }
    }
  }

  /// `y ← alpha · x + y` (`cblas_daxpy`).
  /// - Precondition: `x.count == y.count`.
  public static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
    precondition(x.count == y.count, "x.count (\(x.count)) != y.count (\(y.count))")
    guard !x.isEmpty else { return }
    x.withUnsafeBufferPointer { px in
      y.withUnsafeMutableBufferPointer { py in
        cblas_daxpy(Int32(px.count), alpha, px.baseAddress, 1, py.baseAddress, 1)
      }
    }
  }

  /// `x ← alpha · x` (`cblas_dscal`).
  public static func scale(_ x: inout [Double], by alpha: Double) {
    guard !x.isEmpty else { return }
    x.withUnsafeMutableBufferPointer { px in
      cblas_dscal(Int32(px.count), alpha, px.baseAddress, 1)
    }
  }

  /// The Euclidean norm `‖x‖₂` (`cblas_dnrm2`, which scales to avoid overflow).
  public static func norm(_ x: [Double]) -> Double {
    guard !x.isEmpty else { return 0 }
    return x.withUnsafeBufferPointer { px in cblas_dnrm2(Int32(px.count), px.baseAddress, 1) }
  }

  /// The largest absolute value `‖x‖∞`, or 0 for an empty vector (`cblas_idamax`).
  public static func maxAbsolute(_ x: [Double]) -> Double {
    guard !x.isEmpty else { return 0 }
    let index = x.withUnsafeBufferPointer { px in
      Int(cblas_idamax(Int32(px.count), px.baseAddress, 1))
    }
    return abs(x[index])
  }
}

extension Matrix {
  /// `y ← alpha · op(A) · x + beta · y` with one `cblas_dgemv` call.
  ///
  /// - Parameters:
  ///   - a: `[m, n]`.
  ///   - x: `[n]`, or `[m]` when `transposeA`.
  ///   - y: `[m]`, or `[n]` when `transposeA`; read only when `beta != 0`.
  public static func multiply(
    _ a: Matrix, transposeA: Bool = false, vector x: [Double], alpha: Double = 1,
    beta: Double = 0, into y: inout [Double]
  ) {
    let inputCount = transposeA ? a.rows : a.columns
    let outputCount = transposeA ? a.columns : a.rows
    precondition(x.count == inputCount, "x has \(x.count) values, op(A) has \(inputCount) columns")
    precondition(y.count == outputCount, "y has \(y.count) values, op(A) has \(outputCount) rows")
    guard outputCount > 0 else { return }
    if inputCount == 0 {
      for index in y.indices { y[index] *= beta }
      return
    }
    a.storage.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          cblas_dgemv(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(a.rows),
            Int32(a.columns), alpha, pa.baseAddress, Int32(max(a.columns, 1)), px.baseAddress, 1,
            beta, py.baseAddress, 1)
        }
      }
    }
  }

  /// `A ← alpha · x · yᵀ + A`, a rank-one update with one `cblas_dger` call.
  ///
  /// - Parameters:
  ///   - x: `[rows]`.
  ///   - y: `[columns]`.
  public mutating func addOuterProduct(_ x: [Double], _ y: [Double], scaledBy alpha: Double = 1) {
    precondition(x.count == rows, "x has \(x.count) values, the matrix has \(rows) rows")
    precondition(y.count == columns, "y has \(y.count) values, the matrix has \(columns) columns")
    guard rows > 0, columns > 0 else { return }
    let (m, n) = (rows, columns)
    x.withUnsafeBufferPointer { px in
      y.withUnsafeBufferPointer { py in
        storage.withUnsafeMutableBufferPointer { pa in
          cblas_dger(
            CblasRowMajor, Int32(m), Int32(n), alpha, px.baseAddress, 1, py.baseAddress, 1,
            pa.baseAddress, Int32(n))
        }
      }
    }
  }
}

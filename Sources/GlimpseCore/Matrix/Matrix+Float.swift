import CBLAS

// Single-precision BLAS for the CNN, whose activations and weights are Float32 as in PyTorch and
// Keras: `cblas_sgemm` moves half the bytes of `cblas_dgemm` and runs twice the lanes per FMA.
// The same GEMM is exposed for Double through `GEMMScalar`, so that layers written once,
// generically, can be checked against finite differences in double precision and run in single.

/// A floating-point type with a BLAS matrix product: `Float` (`cblas_sgemm`) or `Double`
/// (`cblas_dgemm`).
///
/// Code generic over `GEMMScalar` is specialised by the compiler for each concrete type, so the
/// hot loops of a `Float` network cost what hand-written `Float` loops cost.
public protocol GEMMScalar: BinaryFloatingPoint, Sendable
where RawSignificand: FixedWidthInteger {
  /// `C ← alpha · op(A) · op(B) + beta · C`, row-major, one BLAS call.
  ///
  /// - Parameters:
  ///   - a: `[m, k]` (`[k, m]` when `transposeA`) with leading dimension `lda`.
  ///   - b: `[k, n]` (`[n, k]` when `transposeB`) with leading dimension `ldb`.
  ///   - c: `[m, n]` with leading dimension `ldc`; read only when `beta != 0`.
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
    a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int, beta: Self,
    c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: GEMMScalar {
  /// `cblas_sgemm` on row-major storage.
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    checkGEMM(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    guard m > 0, n > 0 else { return }
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
}

extension Double: GEMMScalar {
  /// `cblas_dgemm` on row-major storage.
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int, beta: Double,
    c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    checkGEMM(m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
    guard m > 0, n > 0 else { return }
    cblas_dgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
}

/// BLAS takes 32-bit sizes and rejects leading dimensions below 1; both are programming errors.
private func checkGEMM(m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int) {
  precondition(
    m >= 0 && n >= 0 && k >= 0 && max(m, n, k) <= Int(Int32.max),
    "GEMM sizes m = \(m), n = \(n), k = \(k) must lie in 0...Int32.max")
  precondition(
    lda >= 1 && ldb >= 1 && ldc >= 1 && max(lda, ldb, ldc) <= Int(Int32.max),
    "GEMM leading dimensions \(lda), \(ldb), \(ldc) must lie in 1...Int32.max")
}

/// Single-precision matrix products on row-major `[Float]` arrays.
public enum SinglePrecision {
  /// `C ← alpha · op(A) · op(B) + beta · C` with one `cblas_sgemm` call; all three row-major and
  /// densely packed.
  ///
  /// - Parameters:
  ///   - a: `[m, k]`, or `[k, m]` when `transposeA`.
  ///   - b: `[k, n]`, or `[n, k]` when `transposeB`.
  ///   - c: `[m, n]`; read only when `beta != 0`.
  public static func gemm(
    m: Int, n: Int, k: Int, _ a: [Float], transposeA: Bool = false, _ b: [Float],
    transposeB: Bool = false, alpha: Float = 1, beta: Float = 0, into c: inout [Float]
  ) {
    precondition(a.count == m * k, "A has \(a.count) values, expected \(m)·\(k)")
    precondition(b.count == k * n, "B has \(b.count) values, expected \(k)·\(n)")
    precondition(c.count == m * n, "C has \(c.count) values, expected \(m)·\(n)")
    guard m > 0, n > 0 else { return }
    if k == 0 {
      for index in c.indices { c[index] *= beta }
      return
    }
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, let baseC = pc.baseAddress
          else { return }
          Float.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
            a: baseA, lda: transposeA ? m : k, b: baseB, ldb: transposeB ? k : n, beta: beta,
            c: baseC, ldc: n)
        }
      }
    }
  }
}

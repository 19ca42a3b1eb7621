import GlimpseCore

/// A Mercer kernel with its parameters resolved (γ is a number here, not "scale").
public enum Kernel: Sendable, Equatable, Codable {
  /// `exp(−γ‖x − y‖²)`.
  case rbf(gamma: Double)
  /// `x · y`.
  case linear
  /// `(γ x · y + coef0)^degree`.
  case polynomial(gamma: Double, coef0: Double, degree: Int)

  /// The kernel between every row of `a` and every row of `b`, `[a.rows, b.rows]`, from one GEMM.
  ///
  /// RBF distances come from ‖x‖² + ‖y‖² − 2 x·y (clamped at 0 against rounding), so the
  /// cost is one matrix product however many rows there are.
  /// - Parameters:
  ///   - aNorms: squared norms of `a`'s rows (RBF only; computed when `nil`).
  ///   - bNorms: squared norms of `b`'s rows (RBF only; computed when `nil`).
  public func block(_ a: Matrix, _ b: Matrix, aNorms: [Double]? = nil, bNorms: [Double]? = nil)
    -> Matrix
  {
    var gram = Matrix.product(a, b, transposeB: true)
    switch self {
    case .linear:
      break
    case let .polynomial(gamma, coef0, degree):
      gram.storage.withUnsafeMutableBufferPointer { values in
        for index in values.indices { values[index] = power(gamma * values[index] + coef0, degree) }
      }
    case let .rbf(gamma):
      let aSquared = aNorms ?? a.rowSquaredNorms()
      let bSquared = bNorms ?? b.rowSquaredNorms()
      let columns = b.rows
      gram.storage.withUnsafeMutableBufferPointer { values in
        guard let base = values.baseAddress else { return }
        aSquared.withUnsafeBufferPointer { an in
          bSquared.withUnsafeBufferPointer { bn in
            for row in 0..<a.rows {
              let line = base + row * columns
              let rowNorm = an[row]
              for column in 0..<columns {
                let distance = max(rowNorm + bn[column] - 2 * line[column], 0)
                line[column] = exp(-gamma * distance)
              }
            }
          }
        }
      }
    }
    return gram
  }

  /// `K(x, x)` for a row with squared norm `norm`.
  func selfValue(squaredNorm norm: Double) -> Double {
    switch self {
    case .rbf: 1
    case .linear: norm
    case let .polynomial(gamma, coef0, degree): power(gamma * norm + coef0, degree)
    }
  }
}

@inline(__always)
func power(_ base: Double, _ exponent: Int) -> Double {
  var result = 1.0
  for _ in 0..<max(exponent, 0) { result *= base }
  return result
}

#if canImport(Glibc)
  import Glibc
#endif

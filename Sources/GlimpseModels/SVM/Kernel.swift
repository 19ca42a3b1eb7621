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
    case .polynomial(let gamma, let coef0, let degree):
      gram.storage.withUnsafeMutableBufferPointer { values in
        for index in values.indices { values[index] = power(gamma * values[index] + coef0, degree) }
      }
    case .rbf(let gamma):
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

  /// The kernel from exact dot products of pixel codes (`PixelCodes`): `dots` holds Σ k m
  /// for rows whose values are k / 255, and the norms Σ k², all exact integers, so each value
  /// is computed from exact inputs with one division by 255² (RBF distances need no clamping).
  /// - Returns: `[dots.rows, dots.columns]`, as `block` would give for the original rows.
  func block(pixelDots dots: Matrix, aSquaredNorms: [Double], bSquaredNorms: [Double]) -> Matrix {
    var values = dots
    let (rows, columns) = (dots.rows, dots.columns)
    let scale = 1 / PixelCodes.scale
    values.storage.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      switch self {
      case .linear:
        for index in 0..<(rows * columns) { base[index] = base[index] / PixelCodes.scale }
      case .polynomial(let gamma, let coef0, let degree):
        for index in 0..<(rows * columns) {
          base[index] = power(gamma * (base[index] / PixelCodes.scale) + coef0, degree)
        }
      case .rbf(let gamma):
        let factor = -gamma * scale
        aSquaredNorms.withUnsafeBufferPointer { an in
          bSquaredNorms.withUnsafeBufferPointer { bn in
            guard let an = an.baseAddress, let bn = bn.baseAddress else { return }
            // The exponentials are a tenth of a prediction's time: rows split over the cores
            // (each row written by one thread, so the values do not depend on the count).
            forEachRange(rows, costPerItem: columns) { range in
              for row in range {
                let line = base + row * columns
                let rowNorm = an[row]
                for column in 0..<columns {
                  line[column] = exp(factor * (rowNorm + bn[column] - 2 * line[column]))
                }
              }
            }
          }
        }
      }
    }
    return values
  }

  /// `K(x, x)` for a row with squared norm `norm`.
  func selfValue(squaredNorm norm: Double) -> Double {
    switch self {
    case .rbf: 1
    case .linear: norm
    case .polynomial(let gamma, let coef0, let degree): power(gamma * norm + coef0, degree)
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

/// A batch of feature rows that differ from one base row by groups of columns switched on: row
/// r is `base + Σ_g coefficients[r, g] · delta|g`, where `delta|g` is `delta` restricted to the
/// columns of group g (groups are disjoint).
///
/// LIME's perturbed images have this form: the base is the image with every segment hidden,
/// group g holds the columns of segment g's pixels, `delta` is image − fill, and the
/// coefficients are the 0/1 masks. A model whose first step is a dot product (a kernel machine,
/// a linear model) scores such a batch from a few small products instead of writing every image
/// out: `x_r · v = base · v + Σ_g c_rg (Σ_{p∈g} delta_p v_p)`, and because the groups are
/// disjoint `‖x_r‖² = ‖base‖² + Σ_g (2 c_rg Σ_{p∈g} delta_p base_p + c_rg² Σ_{p∈g} delta_p²)`.
public struct MaskedBatch: Sendable {
  /// The row with every group off, `[features]`.
  public var base: [Double]
  /// What switching a column's group on adds to it, `[features]`.
  public var delta: [Double]
  /// The group of each column, `0..<groupCount`.
  public var groups: [Int32]
  /// Number of groups.
  public var groupCount: Int
  /// `[rows, groupCount]`.
  public var coefficients: Matrix

  /// A batch from its parts.
  public init(
    base: [Double], delta: [Double], groups: [Int32], groupCount: Int, coefficients: Matrix
  ) {
    precondition(
      delta.count == base.count && groups.count == base.count,
      "base, delta and groups differ in length")
    precondition(
      coefficients.columns == groupCount,
      "coefficients have \(coefficients.columns) columns, \(groupCount) groups")
    self.base = base
    self.delta = delta
    self.groups = groups
    self.groupCount = groupCount
    self.coefficients = coefficients
  }

  /// Number of rows.
  public var rows: Int { coefficients.rows }

  /// The rows written out, `[rows, features]`.
  public func materialized() -> Matrix {
    let width = base.count
    var result = Matrix(rows: rows, columns: width)
    for row in 0..<rows {
      for column in 0..<width {
        result[row, column] = base[column] + coefficients[row, Int(groups[column])] * delta[column]
      }
    }
    return result
  }

  /// `rows · Bᵀ` for B `[m, features]`, `[rows, m]`, without writing the rows out.
  public func dotProducts(with b: Matrix) -> Matrix {
    precondition(b.columns == base.count, "B has \(b.columns) columns, rows have \(base.count)")
    let m = b.rows
    let width = base.count
    // groupDots[g, j] = Σ_{p∈g} delta_p B[j, p]; baseDots[j] = base · B[j].
    var groupDots = Matrix(rows: groupCount, columns: m)
    var baseDots = [Double](repeating: 0, count: m)
    b.storage.withUnsafeBufferPointer { bValues in
      base.withUnsafeBufferPointer { base in
        delta.withUnsafeBufferPointer { delta in
          groups.withUnsafeBufferPointer { groups in
            groupDots.storage.withUnsafeMutableBufferPointer { out in
              guard let bValues = bValues.baseAddress, let base = base.baseAddress,
                let delta = delta.baseAddress, let groups = groups.baseAddress,
                let out = out.baseAddress
              else { return }
              // Accumulate one row of B into a contiguous per-group buffer, then scatter it.
              let local = UnsafeMutablePointer<Double>.allocate(capacity: groupCount)
              defer { local.deallocate() }
              for j in 0..<m {
                let row = bValues + j * width
                local.initialize(repeating: 0, count: groupCount)
                var dot = 0.0
                for p in 0..<width {
                  dot += base[p] * row[p]
                  local[Int(groups[p])] += delta[p] * row[p]
                }
                baseDots[j] = dot
                for g in 0..<groupCount { out[g * m + j] = local[g] }
              }
            }
          }
        }
      }
    }
    var result = Matrix(rows: rows, columns: m)
    for row in 0..<rows {
      for j in 0..<m { result[row, j] = baseDots[j] }
    }
    Matrix.multiply(coefficients, groupDots, beta: 1, into: &result)
    return result
  }

  /// The squared norm of every row, `[rows]`.
  public func rowSquaredNorms() -> [Double] {
    var cross = [Double](repeating: 0, count: groupCount)  // Σ_{p∈g} delta_p base_p
    var own = [Double](repeating: 0, count: groupCount)  // Σ_{p∈g} delta_p²
    var baseNorm = 0.0
    for p in 0..<base.count {
      let g = Int(groups[p])
      cross[g] += delta[p] * base[p]
      own[g] += delta[p] * delta[p]
      baseNorm += base[p] * base[p]
    }
    return (0..<rows).map { row in
      var value = baseNorm
      for g in 0..<groupCount {
        let c = coefficients[row, g]
        value += 2 * c * cross[g] + c * c * own[g]
      }
      return max(value, 0)
    }
  }
}

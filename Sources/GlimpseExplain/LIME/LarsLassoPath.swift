import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

// Implementation notes
// Efron, Hastie, Johnstone & Tibshirani, "Least Angle Regression", Annals of Statistics 2004,
// §2 (LARS) with the lasso modification of §3.1, as scikit-learn 1.9's
// `lars_path(X, y, method='lasso')` walks it (no intercept, alpha_min = 0, max_iter = 500):
// - The correlations c = Xᵀ(y − Xβ); C = max |c_j| over the inactive j; α = C / n.
// - Unless the last step dropped a variable, the inactive j with the largest |c_j| (first on
//   ties) joins the active set A with sign s_j = sign(c_j).
// - The equiangular direction: w = G_A⁻¹ s_A with G_A = X_Aᵀ X_A, A_A = (s_Aᵀ w)^(−1/2),
//   w ← A_A w; a_j = X_jᵀ X_A w for the inactive j (rounded to 15 decimals, as scikit-learn
//   rounds them); step γ = min⁺ {(C − c_j)/(A_A − a_j), (C + c_j)/(A_A + a_j), C/A_A} (eq. 2.13).
// - Lasso modification (eq. 3.4–3.6): if some active β_j would cross zero first, at
//   γ̃ = min⁺ −β_j / w_j < γ, the step stops there and those variables leave A.
// - Stops when α ≤ float32's epsilon, every variable is active, α grew (scikit-learn's early
//   stop: the residues are too small to control α), or after 500 steps.
// Each step's coefficients are one column of the path (scikit-learn's `coefs`), the first all
// zero. A variable that leaves keeps, at the step it leaves, the value β_j + γ̃ w_j that
// rounding gives (scikit-learn's too), and 0 afterwards.

/// The lasso's regularisation path by least angle regression: the coefficients at every knot.
public struct LarsLassoPath: Sendable, Equatable {
  /// α at each knot (the largest inactive correlation over the number of samples), decreasing.
  public var alphas: [Double]
  /// The coefficients at each knot, `[knots][features]`; the first knot is all zero.
  public var coefficients: [[Double]]

  /// The path of `features` `[samples, features]` and `target` `[samples]` (neither centred nor
  /// scaled here: lime passes its weighted, centred data).
  public static func compute(features x: Matrix, target y: [Double], maxIterations: Int = 500)
    -> LarsLassoPath
  {
    let n = x.rows
    let p = x.columns
    precondition(y.count == n, "features and target disagree in length")
    let gram = Matrix.product(x, transposeA: true, x)
    let xy = Matrix.product(x, transposeA: true, Matrix(rows: n, columns: 1, storage: y))
    let tiny32 = Double(Float.leastNormalMagnitude)
    let epsilon32 = Double(Float.ulpOfOne)
    var beta = [Double](repeating: 0, count: p)
    var active: [Int] = []
    var signs: [Double] = []
    var excluded = Set<Int>()
    var alphas: [Double] = []
    var path: [[Double]] = [beta]
    var dropped = false
    var iteration = 0
    func correlation(_ j: Int) -> Double {
      var value = xy[j, 0]
      for k in 0..<p where beta[k] != 0 { value -= gram[j, k] * beta[k] }
      return value
    }
    while true {
      let inactive = (0..<p).filter { !active.contains($0) }
      let correlations = inactive.map { excluded.contains($0) ? 0 : correlation($0) }
      var best = -1
      var c = 0.0
      for (position, value) in correlations.enumerated() where best < 0 || abs(value) > c {
        best = position
        c = abs(value)
      }
      let alpha = c / Double(n)
      alphas.append(alpha)
      if alpha <= epsilon32 { break }
      if iteration >= maxIterations || active.count >= p { break }
      if !dropped {
        let j = inactive[best]
        // A variable collinear with the active ones would make G_A singular: scikit-learn
        // warns and leaves it out (its correlation set to 0).
        if pivot(gram, active: active, adding: j) < 1e-7 {
          excluded.insert(j)
          alphas.removeLast()
          continue
        }
        active.append(j)
        signs.append(correlations[best] < 0 ? -1 : 1)
      }
      if iteration > 0, alphas[alphas.count - 2] < alpha { break }
      let gramA = Matrix(rows: active.count, columns: active.count) {
        gram[active[$0], active[$1]]
      }
      let right = Matrix(rows: active.count, columns: 1, storage: signs)
      let solved =
        Matrix.solveSymmetricPositiveDefinite(gramA, right) ?? Matrix.solve(gramA, right)
        ?? Matrix(rows: active.count, columns: 1)
      var direction = (0..<active.count).map { solved[$0, 0] }
      let normalizer = 1 / zip(direction, signs).reduce(0) { $0 + $1.0 * $1.1 }.squareRoot()
      direction = direction.map { $0 * normalizer }
      var gamma = c / normalizer
      for (position, j) in inactive.enumerated() {
        var a = 0.0
        for (k, index) in active.enumerated() { a += gram[j, index] * direction[k] }
        a = (a * 1e15).rounded(.toNearestOrEven) / 1e15
        let cj = correlations[position]
        let g1 = (c - cj) / (normalizer - a + tiny32)
        let g2 = (c + cj) / (normalizer + a + tiny32)
        if g1 > 0 { gamma = min(gamma, g1) }
        if g2 > 0 { gamma = min(gamma, g2) }
      }
      let crossings = active.indices.map { -beta[active[$0]] / (direction[$0] + tiny32) }
      let crossing = crossings.filter { $0 > 0 }.min() ?? .infinity
      dropped = crossing < gamma
      if dropped { gamma = crossing }
      iteration += 1
      for (k, j) in active.enumerated() { beta[j] += gamma * direction[k] }
      path.append(beta)
      if dropped {
        let leaving = active.indices.filter { crossings[$0] == crossing }
        for position in leaving.reversed() {
          active.remove(at: position)
          signs.remove(at: position)
        }
        // From the next knot on, a variable that left is exactly 0.
        for j in 0..<p where !active.contains(j) { beta[j] = 0 }
      }
    }
    return LarsLassoPath(alphas: alphas, coefficients: path)
  }

  /// The Cholesky pivot √|G_jj − ‖L⁻¹ G_Aj‖²| that variable `j` would add to the active set.
  static func pivot(_ gram: Matrix, active: [Int], adding j: Int) -> Double {
    guard !active.isEmpty else { return gram[j, j].squareRoot() }
    let gramA = Matrix(rows: active.count, columns: active.count) { gram[active[$0], active[$1]] }
    let column = Matrix(rows: active.count, columns: 1) { r, _ in gram[active[r], j] }
    guard let solved = Matrix.solveSymmetricPositiveDefinite(gramA, column) else { return 0 }
    var projection = 0.0
    for r in 0..<active.count { projection += column[r, 0] * solved[r, 0] }
    return abs(gram[j, j] - projection).squareRoot()
  }
}

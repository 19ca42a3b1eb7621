import GlimpseCore

/// A weighted ridge regression with an unpenalised intercept: LIME's interpretable model.
///
/// Minimises Σ_i w_i (y_i − b − x_i·β)² + α‖β‖², which is scikit-learn's
/// `Ridge(alpha, fit_intercept=True).fit(X, y, sample_weight=w)`: centre X and y by their
/// weighted means, solve (Xcᵀ W Xc + αI) β = Xcᵀ W yc by Cholesky, then b = ȳ − x̄·β. Several
/// targets (one per explained class) share one factorisation.
public struct LocalSurrogate: Sendable, Equatable {
  /// Coefficients per target, `[targets][features]`.
  public var coefficients: [[Double]]
  /// Intercept per target.
  public var intercepts: [Double]
  /// Weighted R² per target (scikit-learn's `score` with `sample_weight`).
  public var scores: [Double]

  /// Fits one ridge model per column of `targets`.
  /// - Parameters:
  ///   - features: `[samples, features]`.
  ///   - targets: `[samples, targets]`.
  ///   - weights: `[samples]`, non-negative with a positive sum.
  ///   - alpha: the ridge penalty (lime: 1).
  public static func fit(features: Matrix, targets: Matrix, weights: [Double], alpha: Double = 1)
    -> LocalSurrogate
  {
    let n = features.rows
    let d = features.columns
    let t = targets.columns
    precondition(
      targets.rows == n && weights.count == n, "features, targets and weights disagree in length")
    let total = weights.reduce(0, +)
    precondition(total > 0, "sample weights must have a positive sum")
    var featureMeans = [Double](repeating: 0, count: d)
    var targetMeans = [Double](repeating: 0, count: t)
    for i in 0..<n {
      let w = weights[i] / total
      for j in 0..<d { featureMeans[j] += w * features[i, j] }
      for k in 0..<t { targetMeans[k] += w * targets[i, k] }
    }
    // Rows scaled by √w after centring: then AᵀA = Xcᵀ W Xc and Aᵀ B = Xcᵀ W yc.
    var a = Matrix(rows: n, columns: d)
    var b = Matrix(rows: n, columns: t)
    for i in 0..<n {
      let root = weights[i].squareRoot()
      for j in 0..<d { a[i, j] = root * (features[i, j] - featureMeans[j]) }
      for k in 0..<t { b[i, k] = root * (targets[i, k] - targetMeans[k]) }
    }
    var gram = Matrix.product(a, transposeA: true, a)
    for j in 0..<d { gram[j, j] += alpha }
    let right = Matrix.product(a, transposeA: true, b)
    // With α > 0 the system is positive definite; fall back to LU if rounding says otherwise.
    let solution =
      Matrix.solveSymmetricPositiveDefinite(gram, right) ?? Matrix.solve(gram, right)
      ?? Matrix(rows: d, columns: t)
    var coefficients: [[Double]] = []
    var intercepts: [Double] = []
    var scores: [Double] = []
    for k in 0..<t {
      let beta = (0..<d).map { solution[$0, k] }
      let intercept = targetMeans[k] - zip(beta, featureMeans).reduce(0) { $0 + $1.0 * $1.1 }
      var residual = 0.0
      var spread = 0.0
      for i in 0..<n {
        var prediction = intercept
        for j in 0..<d { prediction += beta[j] * features[i, j] }
        residual += weights[i] * (targets[i, k] - prediction) * (targets[i, k] - prediction)
        spread += weights[i] * (targets[i, k] - targetMeans[k]) * (targets[i, k] - targetMeans[k])
      }
      coefficients.append(beta)
      intercepts.append(intercept)
      scores.append(spread > 0 ? 1 - residual / spread : (residual == 0 ? 1 : 0))
    }
    return LocalSurrogate(coefficients: coefficients, intercepts: intercepts, scores: scores)
  }

  /// The surrogate's prediction for target `k` at a feature vector.
  public func predict(_ x: [Double], target k: Int) -> Double {
    intercepts[k] + zip(coefficients[k], x).reduce(0) { $0 + $1.0 * $1.1 }
  }
}

import GlimpseCore

// Implementation notes
// lime 0.2.0.1, lime_base.py, `LimeBase.feature_selection` and `forward_selection`, method by
// method (K = num_features):
// - none: every feature.
// - highest_weights: `Ridge(alpha=0.01)` on every feature with the sample weights, then the K
//   features with the largest |coef · data[0]| (Python's stable sort, descending: ties keep
//   feature order).
// - forward_selection: greedy; each round adds the feature whose `Ridge(alpha=0)` fit on the
//   features chosen so far plus it has the highest weighted R² (first feature wins ties, as
//   lime's strict `>`), for min(K, features) rounds.
// - lasso_path: the data and the target centred by their weighted means and scaled by √w per
//   sample, then scikit-learn's `lars_path(method='lasso')` (`LarsLassoPath`); walking the
//   path's knots from the last one back to the second, the nonzero features of the first knot
//   with at most K of them (of the second knot if none has; all features on a path of one
//   knot), in increasing feature order.
// - auto: forward_selection when K ≤ 6, else highest_weights.
// `LimeBase.explain_instance_with_data` then fits `Ridge(alpha=1)` on the selected features.

extension LocalSurrogate {
  /// lime's feature-selection methods (`feature_selection=` of `explain_instance`).
  public enum FeatureSelection: String, Sendable, CaseIterable, Codable {
    /// forward_selection for at most 6 features, else highest_weights.
    case auto
    /// Every feature.
    case none
    /// The largest coefficients of a weighted ridge (α = 0.01) on all features.
    case highestWeights = "highest_weights"
    /// Greedy by weighted R² of an unpenalised least-squares fit.
    case forwardSelection = "forward_selection"
    /// The last knot of the weighted lasso path with at most K nonzero coefficients.
    case lassoPath = "lasso_path"
  }

  /// The features lime's `feature_selection` picks for one target (notes above), in lime's order.
  /// - Parameters:
  ///   - features: `[samples, features]`; row 0 is the explained instance (`data[0]`).
  ///   - target: `[samples]`.
  ///   - weights: the kernel's sample weights.
  ///   - count: lime's `num_features`.
  public static func selectFeatures(
    features: Matrix, target: [Double], weights: [Double], count: Int, method: FeatureSelection
  ) -> [Int] {
    let d = features.columns
    let targets = Matrix(rows: target.count, columns: 1, storage: target)
    switch method {
    case .none:
      return Array(0..<d)
    case .auto:
      return selectFeatures(
        features: features, target: target, weights: weights, count: count,
        method: count <= 6 ? .forwardSelection : .highestWeights)
    case .highestWeights:
      let fit = fit(features: features, targets: targets, weights: weights, alpha: 0.01)
      let scaled = (0..<d).map { fit.coefficients[0][$0] * features[0, $0] }
      let order = (0..<d).sorted {
        abs(scaled[$0]) > abs(scaled[$1]) || (abs(scaled[$0]) == abs(scaled[$1]) && $0 < $1)
      }
      return Array(order.prefix(max(count, 0)))
    case .forwardSelection:
      var used: [Int] = []
      for _ in 0..<min(count, d) {
        var best = 0
        var bestScore = -100_000_000.0
        for feature in 0..<d where !used.contains(feature) {
          let columns = used + [feature]
          let subset = Matrix(rows: features.rows, columns: columns.count) {
            features[$0, columns[$1]]
          }
          let score = fit(features: subset, targets: targets, weights: weights, alpha: 0).scores[0]
          if score > bestScore {
            best = feature
            bestScore = score
          }
        }
        used.append(best)
      }
      return used
    case .lassoPath:
      return lassoPathFeatures(features: features, target: target, weights: weights, count: count)
    }
  }

  /// lime's `lasso_path` selection (notes above).
  static func lassoPathFeatures(
    features: Matrix, target: [Double], weights: [Double], count: Int
  ) -> [Int] {
    let d = features.columns
    let (scaled, scaledTarget) = weightedCentred(
      features: features, target: target, weights: weights)
    let path = LarsLassoPath.compute(features: scaled, target: scaledTarget)
    var nonzero = Array(0..<d)
    for knot in path.coefficients.indices.dropFirst().reversed() {
      nonzero = path.coefficients[knot].indices.filter { path.coefficients[knot][$0] != 0 }
      if nonzero.count <= count { break }
    }
    return nonzero
  }

  /// lime's input to `lars_path`: features and target centred by their weighted means
  /// (`np.average(..., weights=w)`), each row scaled by √w.
  static func weightedCentred(features: Matrix, target: [Double], weights: [Double]) -> (
    Matrix, [Double]
  ) {
    let n = features.rows
    let d = features.columns
    let total = weights.reduce(0, +)
    var means = [Double](repeating: 0, count: d)
    var targetMean = 0.0
    for i in 0..<n {
      for j in 0..<d { means[j] += weights[i] * features[i, j] }
      targetMean += weights[i] * target[i]
    }
    means = means.map { $0 / total }
    targetMean /= total
    let scaled = Matrix(rows: n, columns: d) { i, j in
      (features[i, j] - means[j]) * weights[i].squareRoot()
    }
    return (scaled, (0..<n).map { (target[$0] - targetMean) * weights[$0].squareRoot() })
  }

  /// `LimeBase.explain_instance_with_data` for one target: the selected features, then a ridge
  /// (α = `alpha`, lime: 1) on them. The result has a coefficient for every feature (0 for
  /// those not selected), the intercept and the weighted R² of that fit.
  public static func fitSelected(
    features: Matrix, target: [Double], weights: [Double], count: Int, method: FeatureSelection,
    alpha: Double = 1
  ) -> (surrogate: LocalSurrogate, selected: [Int]) {
    let selected = selectFeatures(
      features: features, target: target, weights: weights, count: count, method: method)
    let subset = Matrix(rows: features.rows, columns: selected.count) {
      features[$0, selected[$1]]
    }
    let fitted = fit(
      features: subset, targets: Matrix(rows: target.count, columns: 1, storage: target),
      weights: weights, alpha: alpha)
    var coefficients = [Double](repeating: 0, count: features.columns)
    for (position, feature) in selected.enumerated() {
      coefficients[feature] += fitted.coefficients[0][position]
    }
    return (
      LocalSurrogate(
        coefficients: [coefficients], intercepts: fitted.intercepts, scores: fitted.scores),
      selected
    )
  }
}

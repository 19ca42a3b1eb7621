import GlimpseCore

// Implementation notes
// 1. Every subset of the training points is fitted once (in parallel) and its class-wise score
//    u_c kept for every class c: a class's game reads them for its in-class subsets joined with
//    each admissible out-of-class subset. 2ⁿ fits, (classes × 2ⁿ) scores.
// 2. The game is the one `marginals(_:)` samples: S₋c uniform among the subsets of the other
//    classes' points that hold every other class (pyDVL's `min_elements_per_label=1`; the
//    sampler redraws up to `maximumRedraws` times), a uniform permutation of class c, and the
//    first in-class point's marginal taken from U(∅) = `untrainableValue`. Subsets are fitted in
//    ascending index order and without warm starts; the sampled walk fits in walk order,
//    warm-started, so the two agree exactly for learners without warm starts or ties (k-NN on
//    points at distinct distances).

extension ClasswiseShapley {
  /// Class-wise Shapley values computed exactly, by enumerating every subset (at most
  /// `ExactSemivalues.maximumPlayers` points): Schoch, Xu & Ji (2022), eq. (7),
  ///
  ///     φᵢ = 1/|𝒮₋c| Σ_{S₋c ∈ 𝒮₋c} Σ_{T ⊆ D_c∖{i}} |T|!(m − |T| − 1)!/m! · (u_c(S₋c ∪ T ∪ {i}) − u_c(S₋c ∪ T))
  ///
  /// for i of class c with m points, 𝒮₋c the subsets of the other classes' points that hold
  /// each other class, and u_c(S₋c ∪ ∅) read as U(∅) as the sampled estimator does; then each
  /// class's values are rescaled to its in-class score (`normalize`). The sampled
  /// `run(_:options:)` converges to these values.
  ///
  /// - Parameter normalized: Rescale each class to its in-class score (pyDVL's
  ///   `normalize_values=True`, the default); `false` gives the means the sampled estimator's
  ///   accumulator holds before its normalisation.
  /// - Returns: Method `classwise`, status `.exact`, standard errors 0.
  /// - Throws: `ValuationError.invalidSetting` above `ExactSemivalues.maximumPlayers` points.
  public static func exhaustive<L: Learner>(_ utility: ModelUtility<L>, normalized: Bool = true)
    throws(ValuationError) -> ValuationResult
  {
    let learner = utility.learner
    let n = learner.trainingCount
    guard n <= ExactSemivalues.maximumPlayers else {
      throw .invalidSetting(
        "exhaustive class-wise Shapley takes at most \(ExactSemivalues.maximumPlayers) points, got \(n)"
      )
    }
    let labels = learner.trainingLabels
    let classes = Array(Set(labels)).sorted()
    let classMasks = classes.map { c in
      labels.indices.reduce(0) { labels[$1] == c ? $0 | (1 << $1) : $0 }
    }
    let score = ClasswiseScore(validationLabels: learner.validationLabels)
    let untrainable = utility.untrainableValue
    // scores[mask][position of c in classes] = u_c(mask).
    let scores: [[Double]] = parallelMap(1 << n) { mask in
      guard let model = learner.fit((0..<n).filter { mask & (1 << $0) != 0 }, warmStart: nil)
      else { return Array(repeating: untrainable, count: classes.count) }
      let predictions = learner.predictions(of: model)
      return classes.map { score.score(predictions, label: $0) }
    }
    var values = [Double](repeating: 0, count: n)
    let everyone = (1 << n) - 1
    for (which, classMask) in classMasks.enumerated() {
      let m = classMask.nonzeroBitCount
      let otherMasks = classMasks.indices.filter { $0 != which }.map { classMasks[$0] }
      let outsideMask = everyone & ~classMask
      var shapleyWeights = [Double](repeating: 0, count: m)
      for size in 0..<m {
        shapleyWeights[size] = 1 / (Double(m) * ExactSemivalues.binomial(m - 1, size))
      }
      var sums = [Double](repeating: 0, count: n)
      var admissible = 0
      var outside = outsideMask
      while true {
        if otherMasks.allSatisfy({ outside & $0 != 0 }) {
          admissible += 1
          var inside = classMask
          while true {
            let size = inside.nonzeroBitCount
            let before = inside == 0 ? untrainable : scores[outside | inside][which]
            for point in 0..<n where classMask & (1 << point) != 0 && inside & (1 << point) == 0 {
              sums[point] +=
                shapleyWeights[size] * (scores[outside | inside | (1 << point)][which] - before)
            }
            if inside == 0 { break }
            inside = (inside - 1) & classMask
          }
        }
        if outside == 0 { break }
        outside = (outside - 1) & outsideMask
      }
      for point in 0..<n where classMask & (1 << point) != 0 {
        values[point] = sums[point] / Double(admissible)
      }
    }
    var result = ValuationResult.exact(
      method: "classwise", values: values, samplesPerPoint: 1 << max(n - 1, 0))
    if normalized { normalize(&result, labels: labels, inClassScores: inClassScores(utility)) }
    return result
  }
}

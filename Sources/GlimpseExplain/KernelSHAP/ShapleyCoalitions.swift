import GlimpseCore

// Implementation notes
// Lundberg & Lee, "A Unified Approach to Interpreting Model Predictions", NeurIPS 2017,
// Theorem 2: the Shapley kernel π(z) = (M − 1) / (C(M, |z|) · |z| · (M − |z|)) weighs each
// coalition z (the segments kept) so that the weighted least-squares fit of an additive model
// recovers the Shapley values. π is infinite for the empty and the full coalition; they are not
// samples but the constraints φ₀ = f(∅) and φ₀ + Σφ = f(all) (see `KernelSHAPExplainer`).
// `sampled` is shap 0.4x's `KernelExplainer` sampling (explainers/_kernel.py, `explain`):
// subset sizes s and M − s are paired; the sizes are visited from the smallest up and every
// subset of a size is enumerated while the budget left, shared by the kernel's mass of the sizes
// left, covers them all; the rest of the budget draws a size from the kernel's mass of the sizes
// left and a uniformly random subset of it, adds its complement when the size has a partner,
// and counts repeats as extra weight; the drawn samples then share the mass of the sizes not
// enumerated. Draws come from our seeded generator, so the coalitions differ from shap's for
// the same seed; the scheme is the same.

/// The coalitions KernelSHAP scores and their Shapley-kernel weights.
struct ShapleyCoalitions: Equatable {
  /// Number of players (segments).
  let playerCount: Int
  /// `[count × playerCount]`, 1 = the segment is kept.
  var masks: [UInt8]
  /// One weight per coalition (relative; their scale does not change the fit).
  var weights: [Double]
  /// Whether every coalition but the empty and the full one is present.
  var isExhaustive: Bool

  /// Number of coalitions.
  var count: Int { weights.count }

  /// C(n, k) as a Double.
  static func binomial(_ n: Int, _ k: Int) -> Double {
    guard k >= 0 && k <= n else { return 0 }
    var result = 1.0
    for i in 0..<min(k, n - k) { result = result * Double(n - i) / Double(i + 1) }
    return result.rounded()
  }

  /// The Shapley kernel π(z) of a coalition of `size` among `playerCount` (Theorem 2).
  static func kernel(size: Int, playerCount m: Int) -> Double {
    Double(m - 1) / (binomial(m, size) * Double(size) * Double(m - size))
  }

  /// All 2^M − 2 coalitions other than the empty and the full one, weighted by π.
  static func exhaustive(playerCount m: Int) -> ShapleyCoalitions {
    precondition(m >= 1 && m <= 24, "exhaustive enumeration is for 1...24 players")
    var masks: [UInt8] = []
    var weights: [Double] = []
    let total = 1 << m
    if m >= 2 {
      masks.reserveCapacity((total - 2) * m)
      weights.reserveCapacity(total - 2)
      for code in 1..<(total - 1) {
        for j in 0..<m { masks.append(UInt8((code >> j) & 1)) }
        weights.append(kernel(size: code.nonzeroBitCount, playerCount: m))
      }
    }
    return ShapleyCoalitions(playerCount: m, masks: masks, weights: weights, isExhaustive: true)
  }

  /// About `budget` coalitions by shap's scheme (notes above); the budget is capped at 2^M − 2.
  static func sampled(
    playerCount m: Int, budget requested: Int, using rng: inout some RandomNumberGenerator
  ) -> ShapleyCoalitions {
    precondition(m >= 1 && requested >= 1, "need a player and a budget of at least 1")
    var budget = requested
    if m <= 30 { budget = min(budget, (1 << m) - 2) }
    var result = ShapleyCoalitions(playerCount: m, masks: [], weights: [], isExhaustive: false)
    guard m >= 2 else {
      result.isExhaustive = true
      return result
    }
    let sizeCount = (m - 1 + 1) / 2  // ceil((M − 1) / 2)
    let pairedSizeCount = (m - 1) / 2  // floor((M − 1) / 2)
    var sizeWeights = (1...sizeCount).map { s in Double(m - 1) / Double(s * (m - s)) }
    for i in 0..<pairedSizeCount { sizeWeights[i] *= 2 }
    let mass = sizeWeights.reduce(0, +)
    sizeWeights = sizeWeights.map { $0 / mass }

    var fullSizes = 0
    var left = budget
    var remaining = sizeWeights
    for size in 1...sizeCount {
      var subsets = binomial(m, size)
      let paired = size <= pairedSizeCount
      if paired { subsets *= 2 }
      guard Double(left) * remaining[size - 1] / subsets >= 1 - 1e-8 else { break }
      fullSizes += 1
      left -= Int(subsets)
      if remaining[size - 1] < 1 {
        let scale = 1 - remaining[size - 1]
        remaining = remaining.map { $0 / scale }
      }
      var weight = sizeWeights[size - 1] / binomial(m, size)
      if paired { weight /= 2 }
      forEachSubset(of: m, size: size) { members in
        var mask = [UInt8](repeating: 0, count: m)
        for j in members { mask[j] = 1 }
        result.append(mask, weight: weight)
        if paired { result.append(mask.map { 1 - $0 }, weight: weight) }
      }
    }
    let fixed = result.count
    guard fullSizes < sizeCount, left > 0 else {
      result.isExhaustive = fullSizes == sizeCount
      return result
    }
    // The sizes not enumerated, each drawn with its share of the kernel (halved for paired
    // sizes, since each draw adds its complement too).
    var drawWeights = sizeWeights
    for i in 0..<pairedSizeCount { drawWeights[i] /= 2 }
    drawWeights = Array(drawWeights[fullSizes...])
    let drawMass = drawWeights.reduce(0, +)
    var cumulative: [Double] = []
    var running = 0.0
    for w in drawWeights {
      running += w / drawMass
      cumulative.append(running)
    }
    var seen: [[UInt8]: Int] = [:]
    var order = Array(0..<m)
    var tries = 0
    let maxTries = 4 * left
    while left > 0 && tries < maxTries {
      tries += 1
      let u = Double(rng.next() >> 11) * 0x1.0p-53
      let index = cumulative.firstIndex { u < $0 } ?? (cumulative.count - 1)
      let size = index + fullSizes + 1
      // A uniform random subset of `size`: the first `size` of a partial Fisher–Yates shuffle.
      for i in 0..<size {
        let j = i + Int(rng.next(upperBound: UInt64(m - i)))
        order.swapAt(i, j)
      }
      var mask = [UInt8](repeating: 0, count: m)
      for i in 0..<size { mask[order[i]] = 1 }
      let position = seen[mask]
      if let position {
        result.weights[position] += 1
      } else {
        seen[mask] = result.count
        left -= 1
        result.append(mask, weight: 1)
      }
      if left > 0 && size <= pairedSizeCount {
        if let position {
          result.weights[position + 1] += 1
        } else {
          left -= 1
          result.append(mask.map { 1 - $0 }, weight: 1)
        }
      }
    }
    // The drawn samples share the kernel mass of the sizes that were not enumerated.
    let leftMass = sizeWeights[fullSizes...].reduce(0, +)
    let drawnTotal = result.weights[fixed...].reduce(0, +)
    if drawnTotal > 0 {
      for i in fixed..<result.count { result.weights[i] *= leftMass / drawnTotal }
    }
    return result
  }

  private mutating func append(_ mask: [UInt8], weight: Double) {
    masks.append(contentsOf: mask)
    weights.append(weight)
  }

  /// Calls `body` with every `size`-subset of 0..<n in lexicographic order
  /// (`itertools.combinations`).
  static func forEachSubset(of n: Int, size: Int, _ body: ([Int]) -> Void) {
    guard size <= n else { return }
    var members = Array(0..<size)
    while true {
      body(members)
      var i = size - 1
      while i >= 0 && members[i] == i + n - size { i -= 1 }
      if i < 0 { return }
      members[i] += 1
      for j in (i + 1)..<size { members[j] = members[j - 1] + 1 }
    }
  }
}

import GlimpseCore
import GlimpseModels
import GlimpseSegmentation

// Implementation notes
// KernelSHAP (Lundberg & Lee, NeurIPS 2017, §4.1 and Theorem 2) over superpixels: the players
// are an image's segments, a coalition z keeps its segments and hides the others with the same
// fill as LIME (`LimeImageExplainer.HideColor`), and v(z) is the model's probability of the
// explained class. The Shapley values φ minimise Σ_z π(z) (v(z) − φ₀ − z·φ)² under the
// constraints φ₀ = v(∅) and φ₀ + Σ_j φ_j = v(all) (the kernel's infinite weights). As shap's
// `KernelExplainer.solve` does, the second constraint eliminates the last player:
// φ_{M−1} = Δ − Σ_{j<M−1} φ_j with Δ = v(all) − v(∅), which leaves the unconstrained weighted
// least squares  (z_j − z_{M−1})_j · φ_{<M−1} ≈ v(z) − v(∅) − z_{M−1}·Δ,  solved from its normal
// equations by LAPACK (Cholesky, LU if rounding breaks definiteness), one factorisation for
// every explained class. Efficiency (Σφ = Δ) therefore holds to rounding whatever the
// coalitions. With every coalition enumerated (M ≤ `exhaustiveSegmentLimit`) the solution is the
// exact Shapley value (Theorem 2); otherwise the coalitions are sampled as shap samples them
// (`ShapleyCoalitions.sampled`). shap's optional L1 feature selection (`l1_reg`) is not done:
// every segment gets a value.
// Unchanged segments: a segment whose fill equals its pixels (a black background hidden by its
// black mean, or by a constant 0) gives the same image hidden or shown, so no coalition's value
// depends on it: it is a dummy player, whose Shapley value is 0 and whose presence changes no
// other player's value (Shapley 1953, the dummy and null-player axioms). By default such
// segments get exactly 0 and the game is played by the others alone, which then take fewer
// coalitions and are enumerated whenever they are at most `exhaustiveSegmentLimit` (a digit's
// 17 SLIC segments are often 10 players: exact values from 1024 coalitions instead of an
// estimate from 1000). shap plays every segment; `skipsUnchangedSegments = false` does too.

/// Explains one image's classification by the Shapley values of its superpixels, estimated by
/// KernelSHAP (exact when the segments are few enough to enumerate every coalition).
public struct KernelSHAPExplainer: Sendable {
  /// Coalitions scored when sampling (shap's `nsamples`, not counting the empty and the full
  /// one); capped at 2^M − 2.
  public var coalitionCount = 1000
  /// Enumerate every coalition when the image has at most this many segments (2^14 = 16 384
  /// coalitions); above it, sample `coalitionCount`.
  public var exhaustiveSegmentLimit = 14
  /// Rows per classifier call for models that need the images written out.
  public var batchSize = 100
  /// Fill of hidden segments, as LIME's.
  public var hideColor = LimeImageExplainer.HideColor.segmentMean
  /// Whether segments that hiding leaves unchanged (fill equal to every pixel) get value 0
  /// without taking part in the coalitions (see the notes; exact, as they are dummy players).
  /// `false` plays every segment, as shap does. The limits above then count the other segments.
  public var skipsUnchangedSegments = true

  /// 1000 coalitions, exhaustive up to 14 segments, segments hidden by their mean colour.
  public init() {}

  /// Explains `image` for the classes `labels` with a black-box probability function on images.
  /// - Parameters:
  ///   - image: the image as the model sees it.
  ///   - segments: its segmentation (the players).
  ///   - labels: class indices to explain.
  ///   - rng: the source of sampled coalitions (unused when they are enumerated).
  ///   - predict: class probabilities for a batch of rows, `[rows, classes]`.
  public func explain(
    _ image: Image, segments: SegmentMap, segmenter: SegmenterSpec? = nil, labels: [Int],
    using rng: inout some RandomNumberGenerator, predict: (Matrix) -> Matrix
  ) -> ImageExplanation {
    let fill = hideColor.fill(image, segments)
    return explain(
      segments: segments, segmenter: segmenter, labels: labels,
      players: players(image, segments: segments, fill: fill), using: &rng
    ) {
      $0.scored(
        image: image, segments: segments, fill: fill, batchSize: batchSize, predict: predict)
    }
  }

  /// Explains with a classifier, the coalitions scored as `MaskedBatch`es as LIME's samples are.
  public func explain(
    _ image: Image, segments: SegmentMap, segmenter: SegmenterSpec? = nil, labels: [Int],
    classifier: some Classifier, using rng: inout some RandomNumberGenerator
  ) -> ImageExplanation {
    let fill = hideColor.fill(image, segments)
    return explain(
      segments: segments, segmenter: segmenter, labels: labels,
      players: players(image, segments: segments, fill: fill), using: &rng
    ) {
      $0.scored(
        image: image, segments: segments, fill: fill, classifier: classifier,
        batchSize: batchSize)
    }
  }

  /// The segments that play: all of them, or (`skipsUnchangedSegments`) those whose fill
  /// differs from some pixel of theirs, ascending.
  func players(_ image: Image, segments: SegmentMap, fill: [Double]) -> [Int] {
    guard skipsUnchangedSegments else { return Array(0..<segments.count) }
    let channels = image.channels
    var changed = [Bool](repeating: false, count: segments.count)
    for (pixel, label) in segments.labels.enumerated() {
      let s = Int(label)
      guard !changed[s] else { continue }
      for c in 0..<channels where image.pixels[pixel * channels + c] != fill[s * channels + c] {
        changed[s] = true
      }
    }
    return changed.indices.filter { changed[$0] }
  }

  /// The common path: coalitions of `players` (the other segments shown in every row; all
  /// segments when `nil`), their scores, the constrained weighted least squares.
  func explain(
    segments: SegmentMap, segmenter: SegmenterSpec?, labels: [Int], players: [Int]? = nil,
    using rng: inout some RandomNumberGenerator, score: (PerturbationSet) -> Matrix
  ) -> ImageExplanation {
    let segmentCount = segments.count
    precondition(segmentCount >= 1, "KernelSHAP needs at least one segment")
    let players = players ?? Array(0..<segmentCount)
    let m = players.count
    // No player (hiding changes nothing): the full and empty rows alone, every value 0.
    let coalitions =
      m == 0
      ? ShapleyCoalitions(playerCount: 0, masks: [], weights: [], isExhaustive: true)
      : m <= exhaustiveSegmentLimit
        ? ShapleyCoalitions.exhaustive(playerCount: m)
        : ShapleyCoalitions.sampled(playerCount: m, budget: coalitionCount, using: &rng)
    // Row 0 keeps every segment, row 1 hides every player; the coalitions follow.
    var masks = [UInt8](repeating: 1, count: m)
    masks += [UInt8](repeating: 0, count: m)
    masks += coalitions.masks
    var set = PerturbationSet(segmentCount: m, sampleCount: coalitions.count + 2, masks: masks)
    if m < segmentCount { set = set.expanded(to: segmentCount, features: players) }
    let probabilities = score(set)
    let values = Self.shapleyValues(
      coalitions: coalitions, full: labels.map { probabilities[0, $0] },
      empty: labels.map { probabilities[1, $0] },
      values: Matrix(rows: coalitions.count, columns: labels.count) {
        probabilities[$0 + 2, labels[$1]]
      })
    // The segments that did not play are dummies: value 0.
    let weights = values.phi.map { phi in
      var all = [Double](repeating: 0, count: segmentCount)
      for (j, segment) in players.enumerated() { all[segment] = phi[j] }
      return all
    }
    return ImageExplanation(
      segments: segments, segmenter: segmenter, labels: labels, weights: weights,
      intercepts: labels.map { probabilities[1, $0] }, scores: values.scores,
      localPredictions: labels.map { probabilities[0, $0] },
      probabilities: labels.map { probabilities[0, $0] }, sampleCount: set.sampleCount)
  }

  /// The constrained weighted least squares of the notes: per target column, φ (summing to
  /// full − empty) and the weighted R² of v(∅) + z·φ on the coalitions (1 without coalitions).
  static func shapleyValues(
    coalitions: ShapleyCoalitions, full: [Double], empty: [Double], values: Matrix
  ) -> (phi: [[Double]], scores: [Double]) {
    let m = coalitions.playerCount
    let targets = full.count
    let n = coalitions.count
    let delta = zip(full, empty).map { $0 - $1 }
    guard m >= 2, n > 0 else {
      // One player takes the whole difference.
      let phi = delta.map { d in [d] + [Double](repeating: 0, count: max(m - 1, 0)) }
      return (phi, [Double](repeating: 1, count: targets))
    }
    let last = m - 1
    // Rows scaled by √π so that AᵀA and AᵀB are the weighted normal equations.
    var a = Matrix(rows: n, columns: last)
    var b = Matrix(rows: n, columns: targets)
    coalitions.masks.withUnsafeBufferPointer { masks in
      for i in 0..<n {
        let root = coalitions.weights[i].squareRoot()
        let row = i * m
        let lastKept = Double(masks[row + last])
        for j in 0..<last { a[i, j] = root * (Double(masks[row + j]) - lastKept) }
        for k in 0..<targets {
          b[i, k] = root * (values[i, k] - empty[k] - lastKept * delta[k])
        }
      }
    }
    let gram = Matrix.product(a, transposeA: true, a)
    let right = Matrix.product(a, transposeA: true, b)
    let solution =
      Matrix.solveSymmetricPositiveDefinite(gram, right) ?? Matrix.solve(gram, right)
      ?? Self.regularizedSolve(gram, right)
    var phi: [[Double]] = []
    var scores: [Double] = []
    for k in 0..<targets {
      var phiK = (0..<last).map { solution[$0, k] }
      phiK.append(delta[k] - phiK.reduce(0, +))
      // Weighted R² of the additive model on the coalitions.
      var totalWeight = 0.0
      var mean = 0.0
      for i in 0..<n {
        totalWeight += coalitions.weights[i]
        mean += coalitions.weights[i] * values[i, k]
      }
      mean /= totalWeight
      var residual = 0.0
      var spread = 0.0
      for i in 0..<n {
        var prediction = empty[k]
        for j in 0..<m where coalitions.masks[i * m + j] != 0 { prediction += phiK[j] }
        let w = coalitions.weights[i]
        residual += w * (values[i, k] - prediction) * (values[i, k] - prediction)
        spread += w * (values[i, k] - mean) * (values[i, k] - mean)
      }
      phi.append(phiK)
      scores.append(spread > 0 ? 1 - residual / spread : (residual == 0 ? 1 : 0))
    }
    return (phi, scores)
  }

  /// A last resort for a singular system (too few sampled coalitions to pin every value): a
  /// tiny ridge, so that unidentified values stay near 0 rather than failing.
  static func regularizedSolve(_ gram: Matrix, _ right: Matrix) -> Matrix {
    var g = gram
    var trace = 0.0
    for j in 0..<g.rows { trace += g[j, j] }
    let jitter = max(trace / Double(max(g.rows, 1)), 1) * 1e-10
    for j in 0..<g.rows { g[j, j] += jitter }
    return Matrix.solveSymmetricPositiveDefinite(g, right) ?? Matrix.solve(g, right)
      ?? Matrix(rows: g.rows, columns: right.columns)
  }
}

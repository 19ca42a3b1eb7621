import GlimpseCore
import GlimpseModels

// Implementation notes
// 1. Integrated Gradients (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep
//    Networks", ICML 2017, eq. 1 and §5): IG_i(x) = (x_i − x′_i) ∫₀¹ ∂s_c(x′ + α (x − x′))/∂x_i dα
//    with s_c the class score before the softmax and x′ the baseline; completeness:
//    Σ_i IG_i = s_c(x) − s_c(x′) (their Proposition 1), up to the quadrature's error.
// 2. The integral as captum computes it (`IntegratedGradients.attribute`): the rule's points
//    α_k and weights w_k (`IntegrationRule`, Gauss–Legendre with 50 points by default),
//    IG = (x − x′) · Σ_k w_k ∇s_c(x′ + α_k (x − x′)). captum rounds the weights to Float32
//    (`torch.tensor(step_sizes).float()`), and so does this. The sum is accumulated in Double.
// 3. All points of all labels go through the network together, `CNNClassifier
//    .gradientBatchSize` images per forward and backward pass (one pass for 50 steps of a
//    digit), not one call per step.
// 4. captum's convergence delta: Σ_i IG_i − (s_c(x) − s_c(x′)), the scores from a forward
//    pass on x and x′; it measures the quadrature's error (and rounding), and a large one asks
//    for more steps.

/// Explains a CNN's class scores by Integrated Gradients from a baseline image.
public struct IntegratedGradientsExplainer: Sendable {
  /// The image the path starts from.
  public enum Baseline: Sendable, Equatable {
    /// All samples 0: a black image (captum's default).
    case zero
    /// All samples the given value (0.5: mid grey).
    case constant(Double)
    /// A given image of the explained image's shape (a blurred copy, a dataset mean).
    case image(Image)
  }

  /// The attributions of one image for each explained label.
  public struct Attributions: Sendable, Equatable {
    /// One map per label: the attributions of each pixel, channels reduced.
    public var maps: [WeightMap]
    /// Per label, the attribution of every sample of the image (`Image.pixels` order), before
    /// the channels are reduced: captum's `attribute` output.
    public var samples: [[Double]]
    /// Per label, the score (logit) of the image, s_c(x).
    public var scores: [Double]
    /// Per label, the score of the baseline, s_c(x′).
    public var baselineScores: [Double]
    /// Per label, captum's convergence delta Σ IG − (s_c(x) − s_c(x′)) (note 4).
    public var convergenceDeltas: [Double]
  }

  /// Points on the path from the baseline to the image (captum's `n_steps`, default 50).
  public var steps = 50
  /// The path's start.
  public var baseline = Baseline.zero
  /// The quadrature (captum's `method`).
  public var rule = IntegrationRule.gaussLegendre
  /// How a colour pixel's channels become one value (the sum keeps completeness).
  public var channelReduction = GradientChannelReduction.sum

  /// captum's defaults: 50 Gauss–Legendre points from a black image; channels summed.
  public init(
    steps: Int = 50, baseline: Baseline = .zero, rule: IntegrationRule = .gaussLegendre,
    channelReduction: GradientChannelReduction = .sum
  ) {
    self.steps = steps
    self.baseline = baseline
    self.rule = rule
    self.channelReduction = channelReduction
  }

  /// One map per label: the Integrated Gradients of each pixel (channels reduced).
  ///
  /// - Parameters:
  ///   - image: The image as the model takes it (`model.imageShape`, values in [0, 1]).
  ///   - labels: Class indices to explain.
  ///   - model: A Glimpse CNN.
  /// - Throws: `GradientExplanationError` for an image or baseline of another shape, a label
  ///   out of range, no labels, a non-finite pixel or baseline, or too few steps for the rule.
  public func explain(_ image: Image, labels: [Int], model: CNNClassifier)
    throws(GradientExplanationError) -> [WeightMap]
  {
    try attributions(image, labels: labels, model: model).maps
  }

  /// `explain` for any classifier: throws `notDifferentiable` unless it is a Glimpse CNN.
  public func explain(_ image: Image, labels: [Int], classifier: any Classifier)
    throws(GradientExplanationError) -> [WeightMap]
  {
    try explain(image, labels: labels, model: GradientInput.cnn(classifier))
  }

  /// The maps with the per-sample attributions, the scores and the convergence deltas
  /// (notes 1–4). Throws as `explain`.
  public func attributions(_ image: Image, labels: [Int], model: CNNClassifier)
    throws(GradientExplanationError) -> Attributions
  {
    try GradientInput.validate(image, labels: labels, model: model)
    guard let (alphas, weights) = rule.nodes(steps: steps) else {
      throw .invalidSetting(
        name: "steps", value: "\(steps)",
        expected: rule == .gaussLegendre ? "an integer ≥ 1" : "an integer ≥ 2")
    }
    let start = try baselinePixels(image)
    let x = image.pixels
    let values = x.count
    let shape = image.shape
    // Σ_k w_k ∇s(x′ + α_k (x − x′)) per label, accumulated batch by batch (note 3).
    var integrals = [[Double]](
      repeating: [Double](repeating: 0, count: values), count: labels.count)
    let total = labels.count * steps
    let size = model.gradientBatchSize
    for first in stride(from: 0, to: total, by: size) {
      let points = first..<min(first + size, total)
      let batch = GradientInput.batch(count: points.count, shape: shape) { n, i in
        let alpha = alphas[(first + n) % steps]
        return start[i] + alpha * (x[i] - start[i])
      }
      let classes = points.map { labels[$0 / steps] }
      let gradients = model.scoreGradients(batch, classes: classes)
      for (n, point) in points.enumerated() {
        // Note 2: captum's Float32 step weights.
        let weight = Double(Float(weights[point % steps]))
        let gradient = GradientInput.interleaved(gradients.input, image: n)
        let label = point / steps
        for i in 0..<values { integrals[label][i] += weight * gradient[i] }
      }
    }
    // Note 4: the scores of the image and of the baseline, from one forward pass.
    let ends = GradientInput.batch(count: 2, shape: shape) { n, i in n == 0 ? x[i] : start[i] }
    let logits = model.network.logits(ends)
    var result = Attributions(
      maps: [], samples: [], scores: [], baselineScores: [], convergenceDeltas: [])
    for (l, label) in labels.enumerated() {
      let samples = (0..<values).map { i in integrals[l][i] * (x[i] - start[i]) }
      let score = Double(logits.storage[label * 2])
      let baselineScore = Double(logits.storage[label * 2 + 1])
      result.samples.append(samples)
      result.maps.append(GradientInput.reduced(samples, shape: shape, by: channelReduction))
      result.scores.append(score)
      result.baselineScores.append(baselineScore)
      result.convergenceDeltas.append(samples.reduce(0, +) - (score - baselineScore))
    }
    return result
  }

  /// The baseline's samples, in `Image.pixels` order.
  func baselinePixels(_ image: Image) throws(GradientExplanationError) -> [Double] {
    switch baseline {
    case .zero:
      return [Double](repeating: 0, count: image.pixels.count)
    case .constant(let value):
      guard value.isFinite else {
        throw .invalidSetting(name: "baseline", value: "\(value)", expected: "a finite number")
      }
      return [Double](repeating: value, count: image.pixels.count)
    case .image(let start):
      guard start.shape == image.shape else {
        throw .imageShapeMismatch(image: start.shape, model: image.shape)
      }
      guard start.pixels.allSatisfy(\.isFinite) else {
        throw .invalidSetting(
          name: "baseline", value: "an image with non-finite samples", expected: "finite samples")
      }
      return start.pixels
    }
  }
}

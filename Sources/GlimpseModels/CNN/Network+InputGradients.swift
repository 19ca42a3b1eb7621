import GlimpseCore

// Implementation notes
// 1. What is differentiated: the class score before the softmax (the logit), as captum does for a
//    model that returns logits (`target=c` picks output column c). The probability's gradient is
//    the logit's scaled and mixed with the other classes' (∂p_c = p_c (∂s_c − Σ_k p_k ∂s_k)),
//    which saturates for confident predictions; the logit's is what Grad-CAM (Selvaraju et al.,
//    ICCV 2017, §3: "the score for class c, y^c (before the softmax)"), Integrated Gradients and
//    saliency maps are defined on.
// 2. Inference mode: batch normalisation with its running statistics, the affine map
//    y = a x + b per channel (`BatchNorm2D.affine`), so its backward pass is ∂x = a ∂y; Glimpse
//    networks have no dropout, and augmentation only runs in training. Each image is then scored
//    on its own, so the gradient of Σ_n s_{n, c_n} with respect to image n is the gradient of
//    that image's own score: one backward pass serves a whole batch (IG's steps, several
//    classes of one image).
// 3. Layers run in their listed order, not training's ReLU/max-pool swap
//    (`LayerSequence.executionOrder`): the gradients agree either way, and every layer's output
//    then exists to be tapped (Grad-CAM reads the rectified maps before the pool).
// 4. The convolutions' and dense layers' backward passes also compute their parameter
//    gradients, which are dropped: a third of the backward work, the price of reusing the
//    training code (and its tests) unchanged.

/// The gradients of one class score per image, from one inference-mode forward and backward
/// pass of a `Network` (`Network.scoreGradients(_:classes:tap:)`).
public struct ScoreGradients<Scalar: GEMMScalar>: Sendable {
  /// Every class score (logit, before the softmax) of every image, `[classes, count, 1, 1]`.
  public var logits: FeatureMaps<Scalar>
  /// The differentiated score of each image: its logit of the class it was asked for.
  public var scores: [Scalar]
  /// ∂score/∂input for each image, shaped like the input `[channels, count, height, width]`.
  public var input: FeatureMaps<Scalar>
  /// The output of the tapped layer (`nil` without a tap).
  public var activations: FeatureMaps<Scalar>?
  /// ∂score/∂(the tapped layer's output), shaped like `activations` (`nil` without a tap).
  public var activationGradients: FeatureMaps<Scalar>?
}

/// What one layer's inference-mode forward pass keeps for the backward pass to the input.
enum InferenceCache<Scalar: GEMMScalar> {
  /// A layer whose training forward pass is already its inference pass (no batch statistics).
  case layer(LayerCache<Scalar>)
  /// Batch normalisation at inference: its per-channel slope a (note 2).
  case affine([Scalar])
  /// A residual block: both paths' caches and the block's output (its final ReLU's mask).
  case residual(main: [InferenceCache], shortcut: [InferenceCache], output: FeatureMaps<Scalar>)
}

extension Network {
  /// The layer whose output Grad-CAM weighs: the last convolution or residual block before the
  /// maps are flattened or pooled globally, together with the batch normalisation and ReLU
  /// directly after it (the rectified maps, Selvaraju et al.'s A^k); `nil` for a network
  /// without convolutions.
  ///
  /// `.seed` and `.standard`: the second convolution's ReLU (index 4, 11×11 maps for 28×28
  /// digits); `.resnet`: the last residual block (index 6, 7×7 maps for 224×224 images).
  public var gradCAMLayer: Int? {
    var found: Int?
    for (index, layer) in layers.enumerated() {
      switch layer {
      case .conv, .residual: found = index
      case .batchNorm, .relu: if found == index - 1 { found = index }
      case .maxPool: break
      case .flatten, .globalAveragePool, .dense: return found
      }
    }
    return found
  }

  /// The gradient of one class score per image with respect to the input (and to a tapped
  /// layer's output), in inference mode (notes 1–3).
  ///
  /// - Parameters:
  ///   - input: `[channels, count, height, width]` images, as `logits` takes them (for a
  ///     `CNNClassifier`, pixel values in [0, 1]).
  ///   - classes: The class whose logit is differentiated, one per image.
  ///   - tap: A top-level layer index whose output and gradient to return as well
  ///     (`gradCAMLayer` for Grad-CAM), or `nil`.
  /// - Precondition: `classes.count == input.shape.count`, every class in `0..<outputCount`,
  ///   `tap` in `layers.indices`.
  public func scoreGradients(_ input: FeatureMaps<Scalar>, classes: [Int], tap: Int? = nil)
    -> ScoreGradients<Scalar>
  {
    let count = input.shape.count
    precondition(classes.count == count, "\(classes.count) classes for \(count) images")
    precondition(tap.map { layers.indices.contains($0) } ?? true, "tap \(tap ?? -1) is no layer")
    var taps = Taps<Scalar>(index: tap)
    let (logits, caches) = InferencePass.forward(layers, input, taps: &taps)
    let classCount = logits.shape.channels
    // Note 2: the seed is the one-hot of each image's class; logits are `[classes, count]`.
    var seed = FeatureMaps<Scalar>(shape: logits.shape)
    var scores = [Scalar](repeating: 0, count: count)
    for (n, c) in classes.enumerated() {
      precondition(c >= 0 && c < classCount, "class \(c) out of 0..<\(classCount)")
      seed.storage[c * count + n] = 1
      scores[n] = logits.storage[c * count + n]
    }
    let inputGradient = InferencePass.backward(layers, caches: caches, seed, taps: &taps)
    return ScoreGradients(
      logits: logits, scores: scores, input: inputGradient, activations: taps.activations,
      activationGradients: taps.gradient)
  }
}

/// The tapped layer of a pass and what was read there.
struct Taps<Scalar: GEMMScalar> {
  /// The top-level layer index, or `nil`.
  var index: Int?
  /// Its output.
  var activations: FeatureMaps<Scalar>?
  /// The gradient of the scores with respect to its output.
  var gradient: FeatureMaps<Scalar>?
}

/// Inference-mode forward and backward passes over a list of layers (note 2).
enum InferencePass<Scalar: GEMMScalar> {
  /// The output of `layers` on `input` and one cache per layer, in layer order; the output of
  /// layer `taps.index` is kept in `taps` (only the top level taps: nested calls pass none).
  static func forward(
    _ layers: [NetworkLayer<Scalar>], _ input: FeatureMaps<Scalar>, taps: inout Taps<Scalar>
  ) -> (output: FeatureMaps<Scalar>, caches: [InferenceCache<Scalar>]) {
    var maps = input
    var caches: [InferenceCache<Scalar>] = []
    caches.reserveCapacity(layers.count)
    for (index, layer) in layers.enumerated() {
      switch layer {
      case .conv(let conv):
        let (output, cache) = conv.forward(maps)
        caches.append(.layer(.conv(cache)))
        maps = output
      case .relu(let relu):
        let (output, cache) = relu.forward(maps)
        caches.append(.layer(.relu(cache)))
        maps = output
      case .maxPool(let pool):
        let (output, cache) = pool.forward(maps)
        caches.append(.layer(.maxPool(cache)))
        maps = output
      case .flatten(let flatten):
        let (output, cache) = flatten.forward(maps)
        caches.append(.layer(.flatten(cache)))
        maps = output
      case .dense(let dense):
        let (output, cache) = dense.forward(maps)
        caches.append(.layer(.dense(cache)))
        maps = output
      case .globalAveragePool(let pool):
        let (output, cache) = pool.forward(maps)
        caches.append(.layer(.globalAveragePool(cache)))
        maps = output
      case .batchNorm(let norm):
        // The running statistics' affine map, rounded to Scalar as `callAsFunction` rounds it.
        caches.append(.affine(norm.affine.scale.map { Scalar($0) }))
        maps = norm(maps)
      case .residual(let block):
        var none = Taps<Scalar>()
        let (a, main) = forward(block.main, maps, taps: &none)
        var b = maps
        var shortcut: [InferenceCache<Scalar>] = []
        if !block.shortcut.isEmpty { (b, shortcut) = forward(block.shortcut, maps, taps: &none) }
        let output = ResidualBlock.rectifiedSum(a, b)
        caches.append(.residual(main: main, shortcut: shortcut, output: output))
        maps = output
      }
      if index == taps.index { taps.activations = maps }
    }
    return (maps, caches)
  }

  /// ∂(scores)/∂input from ∂(scores)/∂output; the gradient at the output of layer `taps.index`
  /// is kept in `taps`.
  static func backward(
    _ layers: [NetworkLayer<Scalar>], caches: [InferenceCache<Scalar>],
    _ outputGradient: FeatureMaps<Scalar>, taps: inout Taps<Scalar>
  ) -> FeatureMaps<Scalar> {
    precondition(caches.count == layers.count, "one cache per layer")
    var gradient = outputGradient
    for index in layers.indices.reversed() {
      if index == taps.index { taps.gradient = gradient }
      switch (layers[index], caches[index]) {
      case (.conv(let conv), .layer(.conv(let cache))):
        gradient = conv.backward(gradient, cache: cache, needsInputGradient: true).input!
      case (.dense(let dense), .layer(.dense(let cache))):
        gradient = dense.backward(gradient, cache: cache, needsInputGradient: true).input!
      case (.relu(let relu), .layer(.relu(let cache))):
        gradient = relu.backward(gradient, cache: cache)
      case (.maxPool(let pool), .layer(.maxPool(let cache))):
        gradient = pool.backward(gradient, cache: cache)
      case (.flatten(let flatten), .layer(.flatten(let cache))):
        gradient = flatten.backward(gradient, cache: cache)
      case (.globalAveragePool(let pool), .layer(.globalAveragePool(let cache))):
        gradient = pool.backward(gradient, cache: cache)
      case (.batchNorm, .affine(let slopes)):
        gradient = scaledChannels(gradient, by: slopes)
      case (.residual(let block), .residual(let main, let shortcut, let output)):
        gradient = residualBackward(
          block, main: main, shortcut: shortcut, output: output, gradient)
      default:
        preconditionFailure("layer \(index) and its cache disagree")
      }
    }
    return gradient
  }

  /// The input gradient of a residual block: through its final ReLU, then both paths, summed.
  static func residualBackward(
    _ block: ResidualBlock<Scalar>, main: [InferenceCache<Scalar>],
    shortcut: [InferenceCache<Scalar>], output: FeatureMaps<Scalar>,
    _ outputGradient: FeatureMaps<Scalar>
  ) -> FeatureMaps<Scalar> {
    var none = Taps<Scalar>()
    let gradient = ReLU().backward(outputGradient, cache: output)
    var sum = backward(block.main, caches: main, gradient, taps: &none)
    let other =
      block.shortcut.isEmpty
      ? gradient : backward(block.shortcut, caches: shortcut, gradient, taps: &none)
    precondition(sum.shape == other.shape, "residual input gradients differ in shape")
    sum.storage.withMutableBase { s in
      other.storage.withBase { o in
        for i in 0..<sum.shape.valueCount { s[i] += o[i] }
      }
    }
    return sum
  }

  /// Every value of channel c multiplied by `slopes[c]` (batch normalisation's backward pass at
  /// inference).
  static func scaledChannels(_ maps: FeatureMaps<Scalar>, by slopes: [Scalar])
    -> FeatureMaps<Scalar>
  {
    precondition(slopes.count == maps.shape.channels, "one slope per channel")
    let length = maps.shape.count * maps.shape.planeSize
    return maps.storage.withBase { g in
      FeatureMaps(shape: maps.shape) { out in
        for c in 0..<slopes.count {
          let a = slopes[c]
          for i in (c * length)..<((c + 1) * length) { out[i] = g[i] * a }
        }
      }
    }
  }
}

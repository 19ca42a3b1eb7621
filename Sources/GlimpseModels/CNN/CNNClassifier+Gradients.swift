import GlimpseCore

// Gradient maps of a trained CNN (issue #19, item 3): what the explainers in GlimpseExplain
// (`GradCAMExplainer`, `IntegratedGradientsExplainer`, `SaliencyExplainer`) differentiate.
//
// The model's input is the image's sample values as `Image` holds them, pixels in [0, 1]
// (8-bit codes k read as k / 255, `FeatureMaps(pixels:)`); the network applies no scaling of its
// own. A "pixel gradient" is therefore ∂score/∂(value in [0, 1]); by the chain rule the gradient
// with respect to the 8-bit code k is that divided by 255, the same map up to one factor.

extension CNNClassifier {
  /// The inference-mode gradients of one class score (logit) per image, on the trained network
  /// with batch normalisation at its running statistics (`Network.scoreGradients`).
  ///
  /// - Parameters:
  ///   - images: `[channels, count, height, width]` maps of `imageShape`, values in [0, 1].
  ///   - classes: The class whose logit is differentiated, one per image.
  ///   - tap: A top-level layer whose output and gradient to return too (`gradCAMLayer`).
  public func scoreGradients(_ images: FeatureMaps<Float>, classes: [Int], tap: Int? = nil)
    -> ScoreGradients<Float>
  {
    precondition(
      images.shape.channels == imageShape.channels && images.shape.height == imageShape.height
        && images.shape.width == imageShape.width,
      "images \(images.shape) are not of the model's shape \(imageShape)")
    return network.scoreGradients(images, classes: classes, tap: tap)
  }

  /// The layer Grad-CAM reads (`Network.gradCAMLayer`): the second convolution's ReLU for
  /// `.seed` and `.standard`, the last residual block for `.resnet`.
  public var gradCAMLayer: Int? { network.gradCAMLayer }

  /// Images per `scoreGradients` call that keep a pass's stored maps within about 16 M values
  /// (64 MB of Float32): every layer's output, and each convolution's unfolded input, are kept
  /// for the backward pass. 64 at most (Integrated Gradients' 50 steps in one pass), 1 at least.
  public var gradientBatchSize: Int {
    func stored(_ layers: [NetworkLayer<Float>], _ input: MapShape) -> (Int, MapShape) {
      var maps = input
      var total = 0
      for layer in layers {
        guard let next = layer.outputShape(maps) else { break }
        switch layer {
        case .conv(let conv): total += conv.patchSize * next.planeSize
        case .residual(let block):
          total += stored(block.main, maps).0 + stored(block.shortcut, maps).0
        default: break
        }
        total += next.valuesPerImage
        maps = next
      }
      return (total, maps)
    }
    let input = MapShape(
      channels: imageShape.channels, count: 1, height: imageShape.height, width: imageShape.width)
    return max(1, min(64, (1 << 24) / max(1, stored(network.layers, input).0)))
  }
}

import GlimpseCore
import GlimpseModels

// Saliency (Simonyan, Vedaldi & Zisserman, "Deep Inside Convolutional Networks", ICLR 2014
// workshop, §3.1): the magnitude of the gradient of the class score with respect to the input,
// |∂s_c/∂x|, as captum's `Saliency(model).attribute(x, target=c, abs=True)`. The score is the
// logit (`Network+InputGradients.swift`, note 1), the gradient is taken in inference mode, and
// the channels of a colour pixel are summed (captum's figures) or their largest value kept
// (Simonyan's map), `GradientChannelReduction`.

/// Explains a CNN's class scores by the magnitude of their gradient at each pixel.
public struct SaliencyExplainer: Sendable {
  /// Whether the map is |gradient| (captum's `abs=True`, the default and Simonyan's) or the
  /// signed gradient.
  public var absolute = true
  /// How a colour pixel's channels become one value.
  public var channelReduction = GradientChannelReduction.sum

  /// |gradient|, channels summed.
  public init(absolute: Bool = true, channelReduction: GradientChannelReduction = .sum) {
    self.absolute = absolute
    self.channelReduction = channelReduction
  }

  /// One map per label: the (absolute) gradient of the label's logit with respect to each
  /// sample of `image`, its channels reduced. One forward and one backward pass for all labels.
  ///
  /// - Parameters:
  ///   - image: The image as the model takes it (`model.imageShape`, values in [0, 1]).
  ///   - labels: Class indices to explain.
  ///   - model: A Glimpse CNN.
  /// - Throws: `GradientExplanationError` for an image of another shape, a label out of range,
  ///   no labels, or a non-finite pixel.
  public func explain(_ image: Image, labels: [Int], model: CNNClassifier)
    throws(GradientExplanationError) -> [WeightMap]
  {
    try GradientInput.validate(image, labels: labels, model: model)
    let batch = GradientInput.batch(count: labels.count, shape: image.shape) { _, i in
      image.pixels[i]
    }
    let gradients = model.scoreGradients(batch, classes: labels)
    return labels.indices.map { n in
      var values = GradientInput.interleaved(gradients.input, image: n)
      if absolute { values = values.map { abs($0) } }
      return GradientInput.reduced(values, shape: image.shape, by: channelReduction)
    }
  }

  /// `explain` for any classifier: throws `notDifferentiable` unless it is a Glimpse CNN
  /// (ONNX and command models have no gradients Glimpse can compute).
  public func explain(_ image: Image, labels: [Int], classifier: any Classifier)
    throws(GradientExplanationError) -> [WeightMap]
  {
    try explain(image, labels: labels, model: GradientInput.cnn(classifier))
  }
}

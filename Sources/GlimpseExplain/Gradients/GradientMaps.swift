import GlimpseCore
import GlimpseModels

// What the three gradient explainers share: the checks on their input, the batch of images
// handed to the network, and the reduction of per-channel attributions to one value per pixel.
//
// Channels: captum returns one attribution per input value; its figures
// (`visualize_image_attr`) sum the channels of each pixel, which also keeps Integrated
// Gradients' completeness (the map's total is the attributions' total). Simonyan, Vedaldi &
// Zisserman (ICLR 2014 workshop, §3.1) take the largest |gradient| over the channels for a
// saliency map instead; both are offered (`GradientChannelReduction`), the sum by default.
// Grey images have one channel and the two agree.

/// Why a gradient map cannot be computed.
public enum GradientExplanationError: GlimpseError, Equatable {
  /// The model has no gradients Glimpse can compute: only Glimpse's own CNNs (`cnn` model
  /// files) do; imported ONNX networks, command models, SVMs and the like do not.
  case notDifferentiable(kind: String)
  /// The image's shape is not the one the model takes.
  case imageShapeMismatch(image: ImageShape, model: ImageShape)
  /// A class index outside the model's classes.
  case labelOutOfRange(label: Int, classes: Int)
  /// No class to explain.
  case noLabels
  /// The network has no convolution for Grad-CAM to read.
  case noConvolution
  /// A setting outside its valid range.
  case invalidSetting(name: String, value: String, expected: String)

  /// One line saying what is wrong.
  public var description: String {
    switch self {
    case .notDifferentiable(let kind):
      "gradient maps need a Glimpse CNN ('\(CNNClassifier.kind)' model); this model is '\(kind)', which Glimpse cannot differentiate (ONNX and command models are not supported)"
    case .imageShapeMismatch(let image, let model):
      "the image is \(image), the model takes \(model)"
    case .labelOutOfRange(let label, let classes):
      "class \(label) is out of range: the model has \(classes) classes (0..<\(classes))"
    case .noLabels:
      "no class to explain"
    case .noConvolution:
      "the network has no convolution for Grad-CAM"
    case .invalidSetting(let name, let value, let expected):
      "\(name) = \(value) is invalid: expected \(expected)"
    }
  }
}

/// How the attributions of a pixel's channels become the pixel's one value.
public enum GradientChannelReduction: String, Sendable, Codable, CaseIterable {
  /// The sum over channels (captum's figures; keeps Integrated Gradients' completeness).
  case sum
  /// The largest value over channels (Simonyan et al.'s saliency map, of |gradient|).
  case maximum
}

/// Checks and conversions shared by the gradient explainers.
enum GradientInput {
  /// The model as a Glimpse CNN, or `notDifferentiable`.
  static func cnn(_ model: any Classifier) throws(GradientExplanationError) -> CNNClassifier {
    guard let cnn = model as? CNNClassifier else {
      throw .notDifferentiable(kind: type(of: model).kind)
    }
    return cnn
  }

  /// Refuses an image of another shape than the model's, or labels outside its classes.
  static func validate(_ image: Image, labels: [Int], model: CNNClassifier)
    throws(GradientExplanationError)
  {
    guard image.shape == model.imageShape else {
      throw .imageShapeMismatch(image: image.shape, model: model.imageShape)
    }
    guard !labels.isEmpty else { throw .noLabels }
    let classes = model.classNames.count
    for label in labels where label < 0 || label >= classes {
      throw .labelOutOfRange(label: label, classes: classes)
    }
    for value in image.pixels where !value.isFinite {
      throw .invalidSetting(name: "pixel value", value: "\(value)", expected: "a finite number")
    }
  }

  /// `count` images of `shape` as the network takes them, `[channels, count, height, width]`
  /// Float32; `value(n, i)` is sample i (interleaved, `Image.pixels` order) of image n, computed
  /// in Double and rounded once, as `FeatureMaps(images:)` rounds a row.
  static func batch(count: Int, shape: ImageShape, _ value: (Int, Int) -> Double)
    -> FeatureMaps<Float>
  {
    let (channels, plane) = (shape.channels, shape.pixelCount)
    var storage = [Float](repeating: 0, count: channels * count * plane)
    for n in 0..<count {
      for c in 0..<channels {
        let base = (c * count + n) * plane
        for p in 0..<plane { storage[base + p] = Float(value(n, p * channels + c)) }
      }
    }
    return FeatureMaps(
      shape: MapShape(channels: channels, count: count, height: shape.height, width: shape.width),
      storage: storage)
  }

  /// Image `n`'s values of channel-major maps in `Image.pixels` order (interleaved channels).
  static func interleaved(_ maps: FeatureMaps<Float>, image n: Int) -> [Double] {
    let shape = maps.shape
    let (channels, plane) = (shape.channels, shape.planeSize)
    var values = [Double](repeating: 0, count: channels * plane)
    for c in 0..<channels {
      let base = (c * shape.count + n) * plane
      for p in 0..<plane { values[p * channels + c] = Double(maps.storage[base + p]) }
    }
    return values
  }

  /// One value per pixel from interleaved per-channel values.
  static func reduced(
    _ values: [Double], shape: ImageShape, by reduction: GradientChannelReduction
  ) -> WeightMap {
    let channels = shape.channels
    let pixels = (0..<shape.pixelCount).map { p in
      let run = values[(p * channels)..<((p + 1) * channels)]
      switch reduction {
      case .sum: return run.reduce(0, +)
      case .maximum: return run.max() ?? 0
      }
    }
    return WeightMap(width: shape.width, height: shape.height, values: pixels)
  }
}

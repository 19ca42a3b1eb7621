import GlimpseCore
import GlimpseModels

// Implementation notes
// 1. Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
//    Gradient-based Localization", ICCV 2017, eqs. 1–2): with A^k the maps of the last
//    convolution (`Network.gradCAMLayer`: rectified, after its batch normalisation and ReLU, or
//    the last residual block's output) and y^c the class score before the softmax,
//    α_k = mean over (i, j) of ∂y^c/∂A^k_ij and L = ReLU(Σ_k α_k A^k). This is captum's
//    `LayerGradCam(model, layer).attribute(x, target=c, relu_attributions=True)`; captum's
//    default leaves out the ReLU (`relu_attributions=False`), `rectified = false` here.
// 2. The map has the layer's size (11×11 for a digit on `.standard`) and is brought to the
//    image's as captum's `LayerAttribution.interpolate` does, by PyTorch's `F.interpolate`:
//    captum's default mode is "nearest" (source index ⌊i · in/out⌋); "bilinear" with
//    `align_corners=False` samples at (i + ½) · in/out − ½, clamped below at 0, between the
//    two neighbours (the last one repeated at the edge). Bilinear is the default here, the
//    smooth map Selvaraju et al. show; `.nearest` gives captum's default.
// 3. Computed in Double from the network's Float32 maps and gradients.

/// Explains a CNN's class scores by Grad-CAM on its last convolution.
public struct GradCAMExplainer: Sendable {
  /// How the layer's map is brought to the image's size (note 2).
  public enum Upsampling: String, Sendable, Codable, CaseIterable {
    /// PyTorch's `F.interpolate(mode="nearest")`, captum's default.
    case nearest
    /// PyTorch's `F.interpolate(mode="bilinear", align_corners=False)`.
    case bilinear
  }

  /// How the layer's map is brought to the image's size.
  public var upsampling = Upsampling.bilinear
  /// Whether negative evidence is cut (Selvaraju's ReLU; captum's `relu_attributions=True`).
  public var rectified = true
  /// The top-level layer to read, or `nil` for `CNNClassifier.gradCAMLayer`.
  public var layer: Int?

  /// Grad-CAM on the last convolution, rectified, upsampled bilinearly.
  public init(upsampling: Upsampling = .bilinear, rectified: Bool = true, layer: Int? = nil) {
    self.upsampling = upsampling
    self.rectified = rectified
    self.layer = layer
  }

  /// One map per label, of the image's size: the label's Grad-CAM (note 1), upsampled
  /// (note 2). One forward and one backward pass for all labels.
  ///
  /// - Parameters:
  ///   - image: The image as the model takes it (`model.imageShape`, values in [0, 1]).
  ///   - labels: Class indices to explain.
  ///   - model: A Glimpse CNN.
  /// - Throws: `GradientExplanationError` for an image of another shape, a label out of range,
  ///   no labels, a non-finite pixel, a `layer` that is not in the network or has no spatial
  ///   maps, or a network without convolutions.
  public func explain(_ image: Image, labels: [Int], model: CNNClassifier)
    throws(GradientExplanationError) -> [WeightMap]
  {
    try layerMaps(image, labels: labels, model: model).map { map in
      Self.upsampled(map, width: image.width, height: image.height, upsampling)
    }
  }

  /// `explain` for any classifier: throws `notDifferentiable` unless it is a Glimpse CNN.
  public func explain(_ image: Image, labels: [Int], classifier: any Classifier)
    throws(GradientExplanationError) -> [WeightMap]
  {
    try explain(image, labels: labels, model: GradientInput.cnn(classifier))
  }

  /// One map per label at the layer's resolution (before upsampling).
  public func layerMaps(_ image: Image, labels: [Int], model: CNNClassifier)
    throws(GradientExplanationError) -> [WeightMap]
  {
    try GradientInput.validate(image, labels: labels, model: model)
    guard let tap = layer ?? model.gradCAMLayer else { throw .noConvolution }
    guard model.network.layers.indices.contains(tap) else {
      throw .invalidSetting(
        name: "Grad-CAM layer", value: "\(tap)",
        expected: "a layer index in 0..<\(model.network.layers.count)")
    }
    let batch = GradientInput.batch(count: labels.count, shape: image.shape) { _, i in
      image.pixels[i]
    }
    let gradients = model.scoreGradients(batch, classes: labels, tap: tap)
    guard let maps = gradients.activations, let grads = gradients.activationGradients,
      maps.shape.height * maps.shape.width > 1 || tap == model.gradCAMLayer
    else {
      throw .invalidSetting(
        name: "Grad-CAM layer", value: "\(tap)", expected: "a layer with spatial maps")
    }
    let shape = maps.shape
    let (plane, count) = (shape.planeSize, shape.count)
    return (0..<count).map { n in
      var cam = [Double](repeating: 0, count: plane)
      for k in 0..<shape.channels {
        let base = (k * count + n) * plane
        // α_k: the spatial mean of the gradient (eq. 1).
        var alpha = 0.0
        for p in 0..<plane { alpha += Double(grads.storage[base + p]) }
        alpha /= Double(plane)
        for p in 0..<plane { cam[p] += alpha * Double(maps.storage[base + p]) }
      }
      if rectified { cam = cam.map { max($0, 0) } }
      return WeightMap(width: shape.width, height: shape.height, values: cam)
    }
  }

  /// `map` resized to `width × height` as PyTorch's `F.interpolate` resizes (note 2).
  public static func upsampled(
    _ map: WeightMap, width: Int, height: Int, _ mode: Upsampling
  ) -> WeightMap {
    let rows = sourcePositions(map.height, height, mode)
    let columns = sourcePositions(map.width, width, mode)
    var values = [Double](repeating: 0, count: width * height)
    for (y, row) in rows.enumerated() {
      for (x, column) in columns.enumerated() {
        let v = map.values
        let w = map.width
        // PyTorch's order: along the row first, then between the two rows.
        let upper =
          column.lambda0 * v[row.i0 * w + column.i0] + column.lambda1 * v[row.i0 * w + column.i1]
        let lower =
          column.lambda0 * v[row.i1 * w + column.i0] + column.lambda1 * v[row.i1 * w + column.i1]
        values[y * width + x] = row.lambda0 * upper + row.lambda1 * lower
      }
    }
    return WeightMap(width: width, height: height, values: values)
  }

  /// For each output index along one axis, the two source indices and their weights.
  static func sourcePositions(_ input: Int, _ output: Int, _ mode: Upsampling)
    -> [(i0: Int, i1: Int, lambda0: Double, lambda1: Double)]
  {
    let scale = Double(input) / Double(output)
    return (0..<output).map { i in
      switch mode {
      case .nearest:
        let source = min(Int((Double(i) * scale).rounded(.down)), input - 1)
        return (source, source, 1, 0)
      case .bilinear:
        let source = max(scale * (Double(i) + 0.5) - 0.5, 0)
        let i0 = min(Int(source), input - 1)
        let i1 = i0 < input - 1 ? i0 + 1 : i0
        let lambda1 = source - Double(i0)
        return (i0, i1, 1 - lambda1, lambda1)
      }
    }
  }
}

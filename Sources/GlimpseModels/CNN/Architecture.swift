import GlimpseCore

/// One layer of an architecture, before it has weights.
public enum LayerPlan: Sendable, Equatable {
  /// A convolution with `filters` square `kernel × kernel` kernels, stride 1, zero `padding`.
  case conv(filters: Int, kernel: Int, padding: Int)
  /// A rectifier.
  case relu
  /// Max pooling over `size × size` windows.
  case maxPool(size: Int)
  /// Maps to feature vectors (PyTorch's C, H, W order).
  case flatten
  /// A fully connected layer with `outputs` units.
  case dense(outputs: Int)
}

/// The CNN layouts Glimpse trains, by name.
public enum Architecture: String, Sendable, Codable, CaseIterable {
  /// The knee-image study's network (seed notebook 000), one output per class:
  /// conv 32@2×2 → ReLU → max-pool 2 → conv 64@3×3 → ReLU → max-pool 2 → flatten → dense(classes).
  /// On 28×28 digits: 28 → 27 → 13 → 11 → 5, so 64·5·5 = 1600 features reach the dense layer
  /// (34,666 parameters for 10 classes), exactly the PyTorch anchor's `cnn_anchor.py`.
  case seed
  /// A slightly wider network with a hidden dense layer:
  /// conv 32@3×3 → ReLU → max-pool 2 → conv 64@3×3 → ReLU → max-pool 2 → flatten →
  /// dense 128 → ReLU → dense(classes). On 28×28 digits: 28 → 26 → 13 → 11 → 5, 1600 features,
  /// a 128-dimensional embedding (225,034 parameters for 10 classes).
  case standard

  /// The layers for `classes` outputs.
  public func plan(classes: Int) -> [LayerPlan] {
    switch self {
    case .seed:
      [
        .conv(filters: 32, kernel: 2, padding: 0), .relu, .maxPool(size: 2),
        .conv(filters: 64, kernel: 3, padding: 0), .relu, .maxPool(size: 2),
        .flatten, .dense(outputs: classes),
      ]
    case .standard:
      [
        .conv(filters: 32, kernel: 3, padding: 0), .relu, .maxPool(size: 2),
        .conv(filters: 64, kernel: 3, padding: 0), .relu, .maxPool(size: 2),
        .flatten, .dense(outputs: 128), .relu, .dense(outputs: classes),
      ]
    }
  }

  /// A new network for images of `shape` and `classes` outputs, weights drawn by
  /// `initializer` layer by layer from `rng`, biases 0; `nil` when the images are too small for
  /// the layers (a window or kernel larger than the maps it meets).
  public func makeNetwork<Scalar: GEMMScalar>(
    input shape: ImageShape, classes: Int, initializer: WeightInitializer,
    using rng: inout some RandomNumberGenerator
  ) -> Network<Scalar>? {
    var maps = MapShape(
      channels: shape.channels, count: 1, height: shape.height, width: shape.width)
    var layers: [NetworkLayer<Scalar>] = []
    for step in plan(classes: classes) {
      let layer: NetworkLayer<Scalar>
      switch step {
      case .conv(let filters, let kernel, let padding):
        let fanIn = maps.channels * kernel * kernel
        let weights: [Scalar] = initializer.weights(
          count: filters * fanIn, fanIn: fanIn, fanOut: filters * kernel * kernel, using: &rng)
        layer = .conv(
          Conv2D(
            inputChannels: maps.channels, filters: filters, kernelHeight: kernel,
            kernelWidth: kernel, padding: padding, weights: weights,
            bias: [Scalar](repeating: 0, count: filters)))
      case .relu:
        layer = .relu(ReLU())
      case .maxPool(let size):
        layer = .maxPool(MaxPool2D(size: size))
      case .flatten:
        layer = .flatten(Flatten())
      case .dense(let outputs):
        let inputs = maps.valuesPerImage
        guard maps.height == 1, maps.width == 1 else { return nil }
        let weights: [Scalar] = initializer.weights(
          count: outputs * inputs, fanIn: inputs, fanOut: outputs, using: &rng)
        layer = .dense(
          Dense(
            inputs: inputs, outputs: outputs, weights: weights,
            bias: [Scalar](repeating: 0, count: outputs)))
      }
      guard let next = layer.outputShape(maps) else { return nil }
      maps = next
      layers.append(layer)
    }
    return Network(inputShape: shape, layers: layers)
  }

  /// Whether `layers` are this architecture's for `classes` outputs (whatever their weights).
  public func describes<Scalar>(_ layers: [NetworkLayer<Scalar>], classes: Int) -> Bool {
    let plan = plan(classes: classes)
    guard plan.count == layers.count else { return false }
    return zip(plan, layers).allSatisfy { step, layer in
      switch (step, layer) {
      case (.conv(let filters, let kernel, let padding), .conv(let conv)):
        conv.filters == filters && conv.kernelHeight == kernel && conv.kernelWidth == kernel
          && conv.padding == padding
      case (.relu, .relu), (.flatten, .flatten): true
      case (.maxPool(let size), .maxPool(let pool)): pool.size == size
      case (.dense(let outputs), .dense(let dense)): dense.outputs == outputs
      default: false
      }
    }
  }
}

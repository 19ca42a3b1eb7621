import GlimpseCore

/// One layer of an architecture, before it has weights.
public enum LayerPlan: Sendable, Equatable {
  /// A convolution with `filters` square `kernel × kernel` kernels, the given stride and zero
  /// `padding`, with or without a bias.
  case conv(filters: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
  /// Batch normalisation of the channels.
  case batchNorm
  /// The mean of every map (a flat batch).
  case globalAveragePool
  /// A residual block ReLU(main(x) + shortcut(x)); an empty shortcut is the identity.
  case residual(main: [LayerPlan], shortcut: [LayerPlan])
  /// A rectifier.
  case relu
  /// Max pooling over `size × size` windows.
  case maxPool(size: Int)
  /// Maps to feature vectors (PyTorch's C, H, W order).
  case flatten
  /// A fully connected layer with `outputs` units.
  case dense(outputs: Int)

  /// A stride-1 convolution with a bias (the digit networks' layers).
  static func conv(filters: Int, kernel: Int, padding: Int) -> LayerPlan {
    .conv(filters: filters, kernel: kernel, stride: 1, padding: padding, bias: true)
  }

  /// He et al.'s basic block from `input` to `output` channels: 3×3 convolutions (the first
  /// with `stride`) with batch normalisation, and a projection shortcut (strided 1×1 convolution
  /// and batch normalisation) when the shape changes, else the identity.
  static func basicBlock(input: Int, output: Int, stride: Int) -> LayerPlan {
    let shortcut: [LayerPlan] =
      input == output && stride == 1
      ? []
      : [.conv(filters: output, kernel: 1, stride: stride, padding: 0, bias: false), .batchNorm]
    return .residual(
      main: [
        .conv(filters: output, kernel: 3, stride: stride, padding: 1, bias: false), .batchNorm,
        .relu, .conv(filters: output, kernel: 3, stride: 1, padding: 1, bias: false), .batchNorm,
      ], shortcut: shortcut)
  }
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
  /// A small residual network for images of any size, the default for images larger than
  /// 32×32: He et al.'s CIFAR-10 ResNet widths (16, 32, 64 filters; "Deep Residual Learning
  /// for Image Recognition", CVPR 2016, §4.2) after an ImageNet-style stem that brings large
  /// images down fourfold. Stem: conv 16@3×3 stride 2 → batch norm → ReLU → max-pool 2; then
  /// three basic blocks of 16, 32 and 64 channels, each halving the maps with a strided 3×3
  /// convolution and a projection shortcut; global average pooling; dense(classes).
  /// Convolutions before batch normalisation have no bias. The maps shrink 32-fold
  /// (224 → 7), and the global pooling makes the parameter count independent of the image
  /// size: 77.6 K parameters for one channel and 3 classes, 11.2 M multiply-adds per 224×224 grey
  /// image, so LIME's 6000 perturbed images cost seconds, not minutes.
  case resnet

  /// The architecture Glimpse trains by default on images of `shape`: `.standard` up to
  /// 32×32 (digits and small patches), `.resnet` above.
  public static func defaultArchitecture(for shape: ImageShape) -> Architecture {
    shape.height > 32 || shape.width > 32 ? .resnet : .standard
  }

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
    case .resnet:
      Self.residualPlan(stem: 16, widths: [16, 32, 64], classes: classes)
    }
  }

  /// The resnet layout with other widths: a stem of `stem` filters (3×3 stride 2, batch norm,
  /// ReLU, max-pool 2), one stride-2 basic block per width, global average pooling and
  /// dense(classes).
  static func residualPlan(stem: Int, widths: [Int], classes: Int) -> [LayerPlan] {
    var plan: [LayerPlan] = [
      .conv(filters: stem, kernel: 3, stride: 2, padding: 1, bias: false), .batchNorm, .relu,
      .maxPool(size: 2),
    ]
    var channels = stem
    for width in widths {
      plan.append(.basicBlock(input: channels, output: width, stride: 2))
      channels = width
    }
    return plan + [.globalAveragePool, .dense(outputs: classes)]
  }

  /// A new network for images of `shape` and `classes` outputs, weights drawn by
  /// `initializer` layer by layer from `rng`, biases 0, batch normalisation at γ = 1, β = 0;
  /// `nil` when the images are too small for the layers (a window or kernel larger than the
  /// maps it meets).
  public func makeNetwork<Scalar: GEMMScalar>(
    input shape: ImageShape, classes: Int, initializer: WeightInitializer,
    using rng: inout some RandomNumberGenerator
  ) -> Network<Scalar>? {
    Self.makeNetwork(
      plan(classes: classes), input: shape, initializer: initializer, using: &rng)
  }

  /// A new network of `plan` for images of `shape` (as `makeNetwork(input:…)` draws it).
  static func makeNetwork<Scalar: GEMMScalar>(
    _ plan: [LayerPlan], input shape: ImageShape, initializer: WeightInitializer,
    using rng: inout some RandomNumberGenerator
  ) -> Network<Scalar>? {
    let maps = MapShape(
      channels: shape.channels, count: 1, height: shape.height, width: shape.width)
    let built: ([NetworkLayer<Scalar>], MapShape)? = makeLayers(
      plan, input: maps, initializer: initializer, using: &rng)
    guard case let (layers, output)? = built, output.height == 1, output.width == 1 else {
      return nil
    }
    return Network(inputShape: shape, layers: layers)
  }

  private static func makeLayers<Scalar: GEMMScalar>(
    _ plan: [LayerPlan], input: MapShape, initializer: WeightInitializer,
    using rng: inout some RandomNumberGenerator
  ) -> ([NetworkLayer<Scalar>], MapShape)? {
    var maps = input
    var layers: [NetworkLayer<Scalar>] = []
    for step in plan {
      let layer: NetworkLayer<Scalar>
      switch step {
      case .conv(let filters, let kernel, let stride, let padding, let bias):
        let fanIn = maps.channels * kernel * kernel
        let weights: [Scalar] = initializer.weights(
          count: filters * fanIn, fanIn: fanIn, fanOut: filters * kernel * kernel, using: &rng)
        layer = .conv(
          Conv2D(
            inputChannels: maps.channels, filters: filters, kernelHeight: kernel,
            kernelWidth: kernel, stride: stride, padding: padding, weights: weights,
            bias: bias ? [Scalar](repeating: 0, count: filters) : nil))
      case .batchNorm:
        layer = .batchNorm(BatchNorm2D(channels: maps.channels))
      case .relu:
        layer = .relu(ReLU())
      case .maxPool(let size):
        layer = .maxPool(MaxPool2D(size: size))
      case .flatten:
        layer = .flatten(Flatten())
      case .globalAveragePool:
        layer = .globalAveragePool(GlobalAveragePool())
      case .dense(let outputs):
        let inputs = maps.valuesPerImage
        guard maps.height == 1, maps.width == 1 else { return nil }
        let weights: [Scalar] = initializer.weights(
          count: outputs * inputs, fanIn: inputs, fanOut: outputs, using: &rng)
        layer = .dense(
          Dense(
            inputs: inputs, outputs: outputs, weights: weights,
            bias: [Scalar](repeating: 0, count: outputs)))
      case .residual(let mainPlan, let shortcutPlan):
        let mainPath: ([NetworkLayer<Scalar>], MapShape)? = makeLayers(
          mainPlan, input: maps, initializer: initializer, using: &rng)
        let shortcutPath: ([NetworkLayer<Scalar>], MapShape)? = makeLayers(
          shortcutPlan, input: maps, initializer: initializer, using: &rng)
        guard case let (main, _)? = mainPath, case let (shortcut, _)? = shortcutPath else {
          return nil
        }
        layer = .residual(ResidualBlock(main: main, shortcut: shortcut))
      }
      guard let next = layer.outputShape(maps) else { return nil }
      maps = next
      layers.append(layer)
    }
    return (layers, maps)
  }

  /// The size of this architecture's network for images of `shape` and `classes` outputs:
  /// learned values and multiply-adds per image; `nil` when the images do not fit.
  public func cost(input shape: ImageShape, classes: Int) -> (parameters: Int, multiplyAdds: Int)? {
    var unused = SeededGenerator(seed: 0)
    guard
      let network: Network<Float> = makeNetwork(
        input: shape, classes: classes, initializer: .glorotUniform, using: &unused)
    else { return nil }
    return (network.parameterCount, network.multiplyAdds)
  }

  /// Whether `layers` are this architecture's for `classes` outputs (whatever their weights).
  public func describes<Scalar>(_ layers: [NetworkLayer<Scalar>], classes: Int) -> Bool {
    Self.matches(plan(classes: classes), layers)
  }

  private static func matches<Scalar>(_ plan: [LayerPlan], _ layers: [NetworkLayer<Scalar>])
    -> Bool
  {
    guard plan.count == layers.count else { return false }
    return zip(plan, layers).allSatisfy { step, layer in
      switch (step, layer) {
      case (.conv(let filters, let kernel, let stride, let padding, let bias), .conv(let conv)):
        conv.filters == filters && conv.kernelHeight == kernel && conv.kernelWidth == kernel
          && conv.stride == stride && conv.padding == padding && conv.hasBias == bias
      case (.relu, .relu), (.flatten, .flatten), (.batchNorm, .batchNorm),
        (.globalAveragePool, .globalAveragePool):
        true
      case (.maxPool(let size), .maxPool(let pool)): pool.size == size
      case (.dense(let outputs), .dense(let dense)): dense.outputs == outputs
      case (.residual(let main, let shortcut), .residual(let block)):
        matches(main, block.main) && matches(shortcut, block.shortcut)
      default: false
      }
    }
  }
}

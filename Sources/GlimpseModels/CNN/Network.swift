import GlimpseCore

/// One layer of a `Network`: the closed set of layers the CNN architectures use.
public enum NetworkLayer<Scalar: GEMMScalar>: Sendable, Equatable {
  /// A convolution.
  case conv(Conv2D<Scalar>)
  /// A rectifier.
  case relu(ReLU)
  /// Max pooling.
  case maxPool(MaxPool2D)
  /// Maps to feature vectors.
  case flatten(Flatten)
  /// A fully connected layer.
  case dense(Dense<Scalar>)

  /// The output shape for an input shape, or `nil` when the layer cannot take it.
  public func outputShape(_ input: MapShape) -> MapShape? {
    switch self {
    case .conv(let layer): layer.outputShape(input)
    case .relu(let layer): layer.outputShape(input)
    case .maxPool(let layer): layer.outputShape(input)
    case .flatten(let layer): layer.outputShape(input)
    case .dense(let layer): layer.outputShape(input)
    }
  }

  /// Whether the layer has weights and biases.
  public var hasParameters: Bool {
    switch self {
    case .conv, .dense: true
    case .relu, .maxPool, .flatten: false
    }
  }

  /// The layer's output.
  public func callAsFunction(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    switch self {
    case .conv(let layer): layer.forward(input).output
    case .relu(let layer): layer(input)
    case .maxPool(let layer): layer(input)
    case .flatten(let layer): layer(input)
    case .dense(let layer): layer.forward(input).output
    }
  }
}

/// What one layer's forward pass keeps for its backward pass.
enum LayerCache<Scalar: GEMMScalar> {
  case conv(Conv2D<Scalar>.Cache)
  case relu(FeatureMaps<Scalar>)
  case maxPool(MaxPool2D.Cache)
  case flatten(MapShape)
  case dense(Dense<Scalar>.Cache)
}

/// A sequential network of layers ending in class scores, with its input image shape.
///
/// A value: training returns updated copies. Parameters are enumerated layer by layer, weights
/// then bias, which is the order of `parameters`, of gradients and of optimiser state.
public struct Network<Scalar: GEMMScalar>: Sendable, Equatable {
  /// The shape of one input image.
  public let inputShape: ImageShape
  /// The layers, input first.
  public private(set) var layers: [NetworkLayer<Scalar>]
  /// The order in which layers run: `layers`' order, except that a ReLU followed by a max-pool
  /// runs after it. max-pool(ReLU(x)) = ReLU(max-pool(x)) since ReLU is non-decreasing, and the
  /// gradients agree too (a window whose maximum is ≤ 0 passes none either way; otherwise both
  /// send it to the window's first maximum), so the rectifier does a quarter of the work.
  let executionOrder: [Int]

  /// A network of the given layers.
  /// - Precondition: every layer takes the previous layer's output, and the last output is flat.
  public init(inputShape: ImageShape, layers: [NetworkLayer<Scalar>]) {
    self.inputShape = inputShape
    self.layers = layers
    var order = Array(layers.indices)
    var index = 0
    while index + 1 < layers.count {
      if case .relu = layers[index], case .maxPool = layers[index + 1] {
        order.swapAt(index, index + 1)
        index += 2
      } else {
        index += 1
      }
    }
    executionOrder = order
    guard let output = Self.outputShape(of: layers, input: inputShape, count: 1),
      output.height == 1, output.width == 1
    else {
      preconditionFailure("the layers do not chain from input \(inputShape) to flat class scores")
    }
  }

  /// The output shape of `layers` on `count` images of shape `input`, or `nil` when some layer
  /// cannot take its input (images too small for the architecture).
  public static func outputShape(
    of layers: [NetworkLayer<Scalar>], input: ImageShape, count: Int
  ) -> MapShape? {
    var shape = MapShape(
      channels: input.channels, count: count, height: input.height, width: input.width)
    for layer in layers {
      guard let next = layer.outputShape(shape) else { return nil }
      shape = next
    }
    return shape
  }

  /// The number of class scores.
  public var outputCount: Int {
    Self.outputShape(of: layers, input: inputShape, count: 1)?.channels ?? 0
  }

  /// The size of the input of the last dense layer (the embedding), or of the output when the
  /// network has no dense layer.
  public var embeddingSize: Int {
    Self.outputShape(of: Array(layers[..<embeddingLayerCount]), input: inputShape, count: 1)?
      .valuesPerImage ?? 0
  }

  /// Layers before the last dense layer.
  var embeddingLayerCount: Int {
    layers.lastIndex { if case .dense = $0 { true } else { false } } ?? layers.count
  }

  /// Weights and biases of every layer that has them, in order (weights, then bias).
  public var parameters: [[Scalar]] {
    layers.flatMap { layer -> [[Scalar]] in
      switch layer {
      case .conv(let conv): [conv.weights, conv.bias]
      case .dense(let dense): [dense.weights, dense.bias]
      case .relu, .maxPool, .flatten: []
      }
    }
  }

  /// The total number of weights and biases.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// Replaces the parameters (in `parameters` order).
  /// - Precondition: the arrays have the sizes of `parameters`.
  public mutating func setParameters(_ values: [[Scalar]]) {
    let sizes = parameters.map(\.count)
    precondition(
      values.map(\.count) == sizes, "parameter sizes \(values.map(\.count)) != \(sizes)")
    updateParameters { slot, parameters in parameters = values[slot] }
  }

  /// Calls `body` once with every parameter array, in `parameters` order, updated in place.
  ///
  /// For updates that need every array at hand at once, such as an optimiser step split over
  /// threads by ranges of the concatenated parameters. The sizes must not change.
  mutating func updateAllParameters(_ body: (inout [[Scalar]]) -> Void) {
    var arrays: [[Scalar]] = []
    // Each array is moved out of its layer (which holds an empty one meanwhile), so that it has
    // one owner and `body` writes it in place rather than copying it.
    updateParameters { _, parameters in
      arrays.append(parameters)
      parameters = []
    }
    let sizes = arrays.map(\.count)
    body(&arrays)
    precondition(
      arrays.map(\.count) == sizes, "parameter sizes \(arrays.map(\.count)) != \(sizes)")
    updateParameters { slot, parameters in swap(&parameters, &arrays[slot]) }
  }

  /// Calls `body` on every parameter array in `parameters` order, in place.
  mutating func updateParameters(_ body: (Int, inout [Scalar]) -> Void) {
    var slot = 0
    for index in layers.indices {
      switch layers[index] {
      case .conv(var conv):
        // Drop the array's reference to the layer first, so its buffers are unique and are
        // updated in place rather than copied.
        layers[index] = .flatten(Flatten())
        body(slot, &conv.weights)
        body(slot + 1, &conv.bias)
        slot += 2
        layers[index] = .conv(conv)
      case .dense(var dense):
        layers[index] = .flatten(Flatten())
        body(slot, &dense.weights)
        body(slot + 1, &dense.bias)
        slot += 2
        layers[index] = .dense(dense)
      case .relu, .maxPool, .flatten:
        break
      }
    }
  }

  /// Class scores (logits) of a batch, `[classes, count, 1, 1]`.
  public func logits(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    executionOrder.reduce(input) { maps, index in layers[index](maps) }
  }

  /// The input of the last dense layer for each image, `[embeddingSize, count, 1, 1]`: the
  /// penultimate activations, flattened.
  public func embedding(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    let count = embeddingLayerCount
    let maps = executionOrder.filter { $0 < count }.reduce(input) { maps, index in
      layers[index](maps)
    }
    return Flatten()(maps)
  }

  /// The mean softmax cross-entropy of a batch, the number of images it classifies correctly,
  /// and the gradient of the loss with respect to every parameter (in `parameters` order).
  ///
  /// - Parameters:
  ///   - input: `[channels, count, height, width]` images.
  ///   - labels: The class of each image.
  ///   - classWeights: Per-class loss weights (PyTorch's `CrossEntropyLoss(weight=)`, a
  ///     weighted mean), or `nil` for the plain mean.
  public func lossAndGradients(
    _ input: FeatureMaps<Scalar>, labels: [Int], classWeights: [Float]? = nil
  ) -> (loss: Double, correct: Int, gradients: [[Scalar]]) {
    var maps = input
    var caches: [LayerCache<Scalar>] = []
    caches.reserveCapacity(layers.count)
    for index in executionOrder {
      switch layers[index] {
      case .conv(let conv):
        let (output, cache) = conv.forward(maps)
        caches.append(.conv(cache))
        maps = output
      case .relu(let relu):
        let (output, cache) = relu.forward(maps)
        caches.append(.relu(cache))
        maps = output
      case .maxPool(let pool):
        let (output, cache) = pool.forward(maps)
        caches.append(.maxPool(cache))
        maps = output
      case .flatten(let flatten):
        let (output, cache) = flatten.forward(maps)
        caches.append(.flatten(cache))
        maps = output
      case .dense(let dense):
        let (output, cache) = dense.forward(maps)
        caches.append(.dense(cache))
        maps = output
      }
    }
    let (loss, scoreGradient, correct) = SoftmaxCrossEntropy().lossAndGradient(
      maps, labels: labels, classWeights: classWeights)

    // Backward, last layer first. The first layer with parameters needs no input gradient
    // (nothing before it learns), which saves the first convolution's col2im and a GEMM.
    let firstLearning = executionOrder.firstIndex { layers[$0].hasParameters } ?? 0
    var gradient = scoreGradient
    var parameterGradients: [ParameterGradient<Scalar>] = []
    var position = executionOrder.count
    while position > 0 {
      position -= 1
      let index = executionOrder[position]
      let needsInput = position > firstLearning
      // The first learning layer, a convolution feeding a max-pool: its parameter gradients
      // come straight from the pool's gradient and winners (`Conv2D+PooledGradient.swift`).
      if position == firstLearning + 1, case .maxPool(let pool) = layers[index],
        case .maxPool(let poolCache) = caches[position],
        case .conv(let conv) = layers[executionOrder[firstLearning]],
        case .conv(let convCache) = caches[firstLearning],
        conv.takesGradientThroughPool(convCache.inputShape)
      {
        parameterGradients.append(
          conv.parameterGradientThroughPool(
            gradient, pool: pool, poolCache: poolCache, cache: convCache))
        position = firstLearning
        continue
      }
      switch (layers[index], caches[position]) {
      case (.conv(let conv), .conv(let cache)):
        let (input, parameters) = conv.backward(
          gradient, cache: cache, needsInputGradient: needsInput)
        parameterGradients.append(parameters)
        if let input { gradient = input }
      case (.dense(let dense), .dense(let cache)):
        let (input, parameters) = dense.backward(
          gradient, cache: cache, needsInputGradient: needsInput)
        parameterGradients.append(parameters)
        if let input { gradient = input }
      case (.relu(let relu), .relu(let cache)):
        if needsInput { gradient = relu.backward(gradient, cache: cache) }
      case (.maxPool(let pool), .maxPool(let cache)):
        if needsInput { gradient = pool.backward(gradient, cache: cache) }
      case (.flatten(let flatten), .flatten(let cache)):
        if needsInput { gradient = flatten.backward(gradient, cache: cache) }
      default:
        preconditionFailure("layer \(index) and its cache disagree")
      }
    }
    let gradients = parameterGradients.reversed().flatMap { [$0.weights, $0.bias] }
    return (loss, correct, gradients)
  }
}

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
  /// Batch normalisation.
  case batchNorm(BatchNorm2D<Scalar>)
  /// The mean of each map, a flat batch.
  case globalAveragePool(GlobalAveragePool)
  /// A residual block: ReLU(main(x) + shortcut(x)).
  case residual(ResidualBlock<Scalar>)

  /// The output shape for an input shape, or `nil` when the layer cannot take it.
  public func outputShape(_ input: MapShape) -> MapShape? {
    switch self {
    case .conv(let layer): layer.outputShape(input)
    case .relu(let layer): layer.outputShape(input)
    case .maxPool(let layer): layer.outputShape(input)
    case .flatten(let layer): layer.outputShape(input)
    case .dense(let layer): layer.outputShape(input)
    case .batchNorm(let layer): layer.outputShape(input)
    case .globalAveragePool(let layer): layer.outputShape(input)
    case .residual(let block): block.outputShape(input)
    }
  }

  /// Whether the layer has weights and biases (learned by gradient).
  public var hasParameters: Bool { !parameterArrays.isEmpty }

  /// The layer's parameter arrays, in `Network.parameters` order: weights then bias (a
  /// convolution without bias has weights only), γ then β for batch normalisation, the main
  /// path's then the shortcut's for a residual block (PyTorch's `state_dict` order).
  public var parameterArrays: [[Scalar]] {
    switch self {
    case .conv(let conv): conv.hasBias ? [conv.weights, conv.bias] : [conv.weights]
    case .dense(let dense): [dense.weights, dense.bias]
    case .batchNorm(let norm): [norm.scale, norm.shift]
    case .residual(let block): (block.main + block.shortcut).flatMap(\.parameterArrays)
    case .relu, .maxPool, .flatten, .globalAveragePool: []
    }
  }

  /// Multiply-adds per image of a convolution or dense layer (0 for the others, which cost
  /// a few operations per value), for input maps of `input`'s size.
  public func multiplyAdds(_ input: MapShape) -> Int {
    switch self {
    case .conv(let conv): conv.multiplyAdds(input)
    case .dense(let dense): dense.inputs * dense.outputs
    case .residual(let block): block.multiplyAdds(input)
    case .relu, .maxPool, .flatten, .batchNorm, .globalAveragePool: 0
    }
  }

  /// The layer's inference output (batch normalisation with its running statistics).
  public func callAsFunction(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    switch self {
    case .conv(let layer): layer.forward(input).output
    case .relu(let layer): layer(input)
    case .maxPool(let layer): layer(input)
    case .flatten(let layer): layer(input)
    case .dense(let layer): layer.forward(input).output
    case .batchNorm(let layer): layer(input)
    case .globalAveragePool(let layer): layer(input)
    case .residual(let block): block(input)
    }
  }

  /// Calls `body` on every parameter array in `parameterArrays` order, in place, numbering
  /// them from `slot`.
  mutating func updateParameters(slot: inout Int, _ body: (Int, inout [Scalar]) -> Void) {
    // Each layer is moved out of the enum first (a placeholder holds its place), so that its
    // arrays have one owner and `body` writes them in place rather than copying them.
    switch self {
    case .conv(var conv):
      self = .flatten(Flatten())
      body(slot, &conv.weights)
      slot += 1
      if conv.hasBias {
        body(slot, &conv.bias)
        slot += 1
      }
      self = .conv(conv)
    case .dense(var dense):
      self = .flatten(Flatten())
      body(slot, &dense.weights)
      body(slot + 1, &dense.bias)
      slot += 2
      self = .dense(dense)
    case .batchNorm(var norm):
      self = .flatten(Flatten())
      body(slot, &norm.scale)
      body(slot + 1, &norm.shift)
      slot += 2
      self = .batchNorm(norm)
    case .residual(var block):
      self = .flatten(Flatten())
      for index in block.main.indices { block.main[index].updateParameters(slot: &slot, body) }
      for index in block.shortcut.indices {
        block.shortcut[index].updateParameters(slot: &slot, body)
      }
      self = .residual(block)
    case .relu, .maxPool, .flatten, .globalAveragePool:
      break
    }
  }

  /// Calls `body` on every batch-normalisation layer, in `parameters` order.
  mutating func updateBatchNorms(_ body: (inout BatchNorm2D<Scalar>) -> Void) {
    switch self {
    case .batchNorm(var norm):
      body(&norm)
      self = .batchNorm(norm)
    case .residual(var block):
      self = .flatten(Flatten())
      for index in block.main.indices { block.main[index].updateBatchNorms(body) }
      for index in block.shortcut.indices { block.shortcut[index].updateBatchNorms(body) }
      self = .residual(block)
    default:
      break
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
  case batchNorm(BatchNorm2D<Scalar>.Cache)
  case globalAveragePool(MapShape)
  case residual(main: [LayerCache], shortcut: [LayerCache], output: FeatureMaps<Scalar>)
}

/// Training passes over a list of layers: the network's, or a residual block's paths.
enum LayerSequence<Scalar: GEMMScalar> {
  /// The order in which `layers` run: their order, except that a ReLU followed by a max-pool
  /// runs after it. max-pool(ReLU(x)) = ReLU(max-pool(x)) since ReLU is non-decreasing, and the
  /// gradients agree too (a window whose maximum is ≤ 0 passes none either way; otherwise both
  /// send it to the window's first maximum), so the rectifier does a quarter of the work.
  static func executionOrder(_ layers: [NetworkLayer<Scalar>]) -> [Int] {
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
    return order
  }

  /// Multiply-adds of `layers` for one image of `input`'s size, layer after layer.
  static func multiplyAdds(_ layers: [NetworkLayer<Scalar>], _ input: MapShape) -> Int {
    var maps = input
    var total = 0
    for layer in layers {
      total += layer.multiplyAdds(maps)
      guard let next = layer.outputShape(maps) else { break }
      maps = next
    }
    return total
  }

  /// The inference output of `layers` run in `order`.
  static func infer(
    _ layers: [NetworkLayer<Scalar>], order: [Int], _ input: FeatureMaps<Scalar>
  ) -> FeatureMaps<Scalar> {
    order.reduce(input) { maps, index in layers[index](maps) }
  }

  /// The training output (batch normalisation with batch statistics), one cache per position
  /// of `order`, and the batch statistics of every batch-normalisation layer appended to
  /// `statistics` in `parameters` order.
  static func forward(
    _ layers: [NetworkLayer<Scalar>], order: [Int], _ input: FeatureMaps<Scalar>,
    statistics: inout [BatchNorm2D<Scalar>.BatchStatistics]
  ) -> (output: FeatureMaps<Scalar>, caches: [LayerCache<Scalar>]) {
    var maps = input
    var caches: [LayerCache<Scalar>] = []
    caches.reserveCapacity(order.count)
    // Statistics are collected per layer index, then appended in layer order (the execution
    // order only moves ReLUs, which have none, so the two orders agree).
    for index in order {
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
      case .batchNorm(let norm):
        let (output, cache, batch) = norm.forward(maps)
        caches.append(.batchNorm(cache))
        statistics.append(batch)
        maps = output
      case .globalAveragePool(let pool):
        let (output, cache) = pool.forward(maps)
        caches.append(.globalAveragePool(cache))
        maps = output
      case .residual(let block):
        let (output, cache) = block.forward(maps, statistics: &statistics)
        caches.append(cache)
        maps = output
      }
    }
    return (maps, caches)
  }

  /// Gradients of every layer's parameters (`parameterArrays` order, indexed by layer) and,
  /// when `needsInputGradient`, of the input, from the gradient of the output.
  ///
  /// Without an input gradient, the first layer with parameters computes none either (nothing
  /// before it learns), which saves its col2im and a GEMM; when that layer is a convolution
  /// feeding a max-pool, its parameter gradients come straight from the pool's gradient and
  /// winners (`Conv2D+PooledGradient.swift`).
  static func backward(
    _ layers: [NetworkLayer<Scalar>], order: [Int], caches: [LayerCache<Scalar>],
    gradient outputGradient: FeatureMaps<Scalar>, needsInputGradient: Bool
  ) -> (input: FeatureMaps<Scalar>?, parameters: [[[Scalar]]]) {
    var perLayer = [[[Scalar]]](repeating: [], count: layers.count)
    let firstLearning =
      needsInputGradient ? -1 : (order.firstIndex { layers[$0].hasParameters } ?? order.count)
    var gradient = outputGradient
    var position = order.count
    while position > 0 {
      position -= 1
      guard position >= firstLearning else { break }
      let index = order[position]
      let needsInput = position > firstLearning
      if !needsInputGradient, position == firstLearning + 1,
        case .maxPool(let pool) = layers[index],
        case .maxPool(let poolCache) = caches[position],
        case .conv(let conv) = layers[order[firstLearning]],
        case .conv(let convCache) = caches[firstLearning],
        conv.takesGradientThroughPool(convCache.inputShape)
      {
        let parameters = conv.parameterGradientThroughPool(
          gradient, pool: pool, poolCache: poolCache, cache: convCache)
        perLayer[order[firstLearning]] = [parameters.weights, parameters.bias]
        return (nil, perLayer)
      }
      switch (layers[index], caches[position]) {
      case (.conv(let conv), .conv(let cache)):
        let (input, parameters) = conv.backward(
          gradient, cache: cache, needsInputGradient: needsInput)
        perLayer[index] =
          conv.hasBias ? [parameters.weights, parameters.bias] : [parameters.weights]
        if let input { gradient = input }
      case (.dense(let dense), .dense(let cache)):
        let (input, parameters) = dense.backward(
          gradient, cache: cache, needsInputGradient: needsInput)
        perLayer[index] = [parameters.weights, parameters.bias]
        if let input { gradient = input }
      case (.batchNorm(let norm), .batchNorm(let cache)):
        let (input, parameters) = norm.backward(
          gradient, cache: cache, needsInputGradient: needsInput)
        perLayer[index] = [parameters.weights, parameters.bias]
        if let input { gradient = input }
      case (.residual(let block), .residual(let main, let shortcut, let output)):
        let (input, parameters) = block.backward(
          gradient, main: main, shortcut: shortcut, output: output,
          needsInputGradient: needsInput)
        perLayer[index] = parameters
        if let input { gradient = input }
      case (.relu(let relu), .relu(let cache)):
        if needsInput { gradient = relu.backward(gradient, cache: cache) }
      case (.maxPool(let pool), .maxPool(let cache)):
        if needsInput { gradient = pool.backward(gradient, cache: cache) }
      case (.flatten(let flatten), .flatten(let cache)):
        if needsInput { gradient = flatten.backward(gradient, cache: cache) }
      case (.globalAveragePool(let pool), .globalAveragePool(let cache)):
        if needsInput { gradient = pool.backward(gradient, cache: cache) }
      default:
        preconditionFailure("layer \(index) and its cache disagree")
      }
    }
    return (needsInputGradient ? gradient : nil, perLayer)
  }
}

/// The outcome of one training pass over a batch.
public struct TrainingPass<Scalar: GEMMScalar>: Sendable {
  /// Mean softmax cross-entropy of the batch.
  public var loss: Double
  /// Images classified correctly (by the training-mode network).
  public var correct: Int
  /// Gradient of the loss with respect to every parameter, in `Network.parameters` order.
  public var gradients: [[Scalar]]
  /// The batch statistics of every batch-normalisation layer, in `parameters` order, for
  /// `Network.updatingRunningStatistics(_:)`.
  public var statistics: [BatchNorm2D<Scalar>.BatchStatistics]
}

/// A sequential network of layers ending in class scores, with its input image shape.
///
/// A value: training returns updated copies. Parameters are enumerated layer by layer, weights
/// then bias, which is the order of `parameters`, of gradients and of optimiser state.
public struct Network<Scalar: GEMMScalar>: Sendable, Equatable {
  /// The shape of one input image.
  public let inputShape: ImageShape
  /// The layers, input first.
  public internal(set) var layers: [NetworkLayer<Scalar>]
  /// The order in which layers run (`LayerSequence.executionOrder`).
  let executionOrder: [Int]

  /// A network of the given layers.
  /// - Precondition: every layer takes the previous layer's output, and the last output is flat.
  public init(inputShape: ImageShape, layers: [NetworkLayer<Scalar>]) {
    self.inputShape = inputShape
    self.layers = layers
    executionOrder = LayerSequence.executionOrder(layers)
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

  /// Weights and biases of every layer that has them, in order (`NetworkLayer.parameterArrays`).
  public var parameters: [[Scalar]] { layers.flatMap(\.parameterArrays) }

  /// The total number of learned values (weights, biases, batch-normalisation γ and β).
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// Multiply-adds of the convolutions and dense layers for one image (the usual measure of a
  /// network's cost; batch normalisation, rectifiers and pooling add a few operations per value).
  public var multiplyAdds: Int {
    LayerSequence.multiplyAdds(
      layers,
      MapShape(
        channels: inputShape.channels, count: 1, height: inputShape.height,
        width: inputShape.width))
  }

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
    for index in layers.indices { layers[index].updateParameters(slot: &slot, body) }
  }

  /// The network with each batch-normalisation layer's running statistics moved toward the
  /// given batch statistics (one per layer, in `parameters` order, as a training pass returns).
  public func updatingRunningStatistics(_ statistics: [BatchNorm2D<Scalar>.BatchStatistics])
    -> Network
  {
    var result = self
    var next = 0
    for index in result.layers.indices {
      result.layers[index].updateBatchNorms { norm in
        precondition(next < statistics.count, "fewer statistics than batch-norm layers")
        norm = norm.updatingRunningStatistics(statistics[next])
        next += 1
      }
    }
    precondition(next == statistics.count, "more statistics than batch-norm layers")
    return result
  }

  /// Class scores (logits) of a batch, `[classes, count, 1, 1]` (batch normalisation with its
  /// running statistics).
  public func logits(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    LayerSequence.infer(layers, order: executionOrder, input)
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
    let pass = trainingPass(input, labels: labels, classWeights: classWeights)
    return (pass.loss, pass.correct, pass.gradients)
  }

  /// One training pass over a batch: loss, correct count, gradients and the batch statistics of
  /// the batch-normalisation layers (which normalise with the batch's own statistics).
  ///
  /// - Parameters:
  ///   - input: `[channels, count, height, width]` images.
  ///   - labels: The class of each image.
  ///   - classWeights: Per-class loss weights, as for `lossAndGradients`.
  public func trainingPass(
    _ input: FeatureMaps<Scalar>, labels: [Int], classWeights: [Float]? = nil
  ) -> TrainingPass<Scalar> {
    var statistics: [BatchNorm2D<Scalar>.BatchStatistics] = []
    let (scores, caches) = LayerSequence.forward(
      layers, order: executionOrder, input, statistics: &statistics)
    let (loss, scoreGradient, correct) = SoftmaxCrossEntropy().lossAndGradient(
      scores, labels: labels, classWeights: classWeights)
    let (_, perLayer) = LayerSequence.backward(
      layers, order: executionOrder, caches: caches, gradient: scoreGradient,
      needsInputGradient: false)
    return TrainingPass(
      loss: loss, correct: correct, gradients: perLayer.flatMap { $0 }, statistics: statistics)
  }
}

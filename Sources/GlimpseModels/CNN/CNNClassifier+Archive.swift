import GlimpseCore

extension CNNClassifier {
  /// Saves the weights and biases of every layer under PyTorch's `state_dict` names for the same
  /// layer list (`0.weight`, `0.bias`, `3.weight`, …; the seed network's are the anchor's; a
  /// residual block's layers as `4.main.0.weight`, `4.shortcut.1.running_mean`; batch
  /// normalisation's γ, β, running mean and variance as `weight`, `bias`, `running_mean`,
  /// `running_var`), the image shape, and the training history. The layer layout itself is the
  /// architecture named in the hyperparameters, rebuilt on loading.
  ///
  /// Float32 values are stored exactly (the archive keeps them at 4 bytes each), so a loaded
  /// model predicts bit for bit as the saved one.
  public func archive() -> ModelArchive {
    var doubles: [String: [Double]] = [
      "history.loss": history.map(\.loss), "history.accuracy": history.map(\.accuracy),
    ]
    func save(_ layers: [NetworkLayer<Float>], prefix: String) {
      for (index, layer) in layers.enumerated() {
        let name = "\(prefix)\(index)"
        switch layer {
        case .conv(let conv):
          doubles["\(name).weight"] = conv.weights.map(Double.init)
          if conv.hasBias { doubles["\(name).bias"] = conv.bias.map(Double.init) }
        case .dense(let dense):
          doubles["\(name).weight"] = dense.weights.map(Double.init)
          doubles["\(name).bias"] = dense.bias.map(Double.init)
        case .batchNorm(let norm):
          doubles["\(name).weight"] = norm.scale.map(Double.init)
          doubles["\(name).bias"] = norm.shift.map(Double.init)
          doubles["\(name).running_mean"] = norm.runningMean.map(Double.init)
          doubles["\(name).running_var"] = norm.runningVariance.map(Double.init)
        case .residual(let block):
          save(block.main, prefix: "\(name).main.")
          save(block.shortcut, prefix: "\(name).shortcut.")
        case .relu, .maxPool, .flatten, .globalAveragePool:
          break
        }
      }
    }
    save(network.layers, prefix: "")
    return ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount, imageShape: imageShape,
      hyperparameters: hyperparameters, doubles: doubles)
  }

  /// Restores a model saved by `archive()`.
  ///
  /// The network is rebuilt from the architecture named in the hyperparameters; before any
  /// layer is allocated, the length of every stored weight array is checked against what that
  /// architecture needs for the file's image shape and class count (so a header cannot make the
  /// rebuild allocate more than the file holds).
  /// - Throws: `ModelError.wrongKind`, or `.corruptModelFile` naming the field that is wrong.
  public init(archive: ModelArchive) throws(ModelError) {
    guard archive.kind == Self.kind else {
      throw .wrongKind(found: archive.kind, expected: Self.kind)
    }
    let hyperparameters = try archive.hyperparameters(as: Hyperparameters.self) {
      h throws(ModelError) in try h.validate()
    }
    // `ModelArchive(decoding:)` checked that a stored shape holds exactly `featureCount` values.
    guard let shape = archive.imageShape else {
      throw .corruptModelFile("field 'imageShape' is missing (a CNN model needs its image shape)")
    }
    let classCount = try archive.classCount()
    let architecture = hyperparameters.architecture
    guard let counts = Self.parameterCounts(architecture, input: shape, classes: classCount) else {
      throw .corruptModelFile(
        "images of \(shape) do not fit the '\(architecture.rawValue)' CNN")
    }
    for (name, count) in counts { _ = try archive.doubles(name, count: count) }
    var unused = SeededGenerator(seed: 0)
    guard
      let network: Network<Float> = architecture.makeNetwork(
        input: shape, classes: classCount, initializer: .glorotUniform, using: &unused)
    else {
      throw .corruptModelFile(
        "images of \(shape) do not fit the '\(architecture.rawValue)' CNN")
    }
    func load(_ layers: [NetworkLayer<Float>], prefix: String) throws(ModelError)
      -> [NetworkLayer<Float>]
    {
      var loaded = layers
      for (index, layer) in layers.enumerated() {
        let name = "\(prefix)\(index)"
        switch layer {
        case .conv(var conv):
          conv.weights = try Self.floats(archive, "\(name).weight", count: conv.weights.count)
          if conv.hasBias {
            conv.bias = try Self.floats(archive, "\(name).bias", count: conv.bias.count)
          }
          loaded[index] = .conv(conv)
        case .dense(var dense):
          dense.weights = try Self.floats(archive, "\(name).weight", count: dense.weights.count)
          dense.bias = try Self.floats(archive, "\(name).bias", count: dense.bias.count)
          loaded[index] = .dense(dense)
        case .batchNorm(var norm):
          let n = norm.channels
          norm.scale = try Self.floats(archive, "\(name).weight", count: n)
          norm.shift = try Self.floats(archive, "\(name).bias", count: n)
          norm.runningMean = try Self.floats(archive, "\(name).running_mean", count: n)
          norm.runningVariance = try Self.floats(archive, "\(name).running_var", count: n)
          guard norm.runningVariance.allSatisfy({ $0 >= 0 }) else {
            throw .corruptModelFile("array '\(name).running_var' holds a negative variance")
          }
          loaded[index] = .batchNorm(norm)
        case .residual(let block):
          loaded[index] = .residual(
            ResidualBlock(
              main: try load(block.main, prefix: "\(name).main."),
              shortcut: try load(block.shortcut, prefix: "\(name).shortcut.")))
        case .relu, .maxPool, .flatten, .globalAveragePool:
          break
        }
      }
      return loaded
    }
    let layers = try load(network.layers, prefix: "")
    let losses = try archive.doubles("history.loss")
    let accuracies = try archive.doubles("history.accuracy", count: losses.count)
    self.init(
      hyperparameters: hyperparameters, classNames: archive.classNames,
      network: Network(inputShape: shape, layers: layers),
      history: zip(losses, accuracies).map { EpochRecord(loss: $0, accuracy: $1) })
  }

  /// The stored arrays an architecture needs for images of `input` and `classes` outputs, with
  /// their lengths (`archive()`'s names), in layer order; `nil` when the images do not fit the
  /// layers or a size overflows. Computed from the plan without building the layers: the same
  /// shape rules as the layers' `outputShape`, with checked arithmetic.
  static func parameterCounts(_ architecture: Architecture, input: ImageShape, classes: Int)
    -> [(name: String, count: Int)]?
  {
    var arrays: [(name: String, count: Int)] = []
    guard
      let output = Self.counts(
        architecture.plan(classes: classes), prefix: "",
        shape: (input.channels, input.height, input.width), into: &arrays),
      output.1 == 1, output.2 == 1
    else { return nil }
    return arrays
  }

  /// Appends the arrays of `plan` to `counts` and returns the output's (channels, height,
  /// width), or `nil` when the input does not fit or a size overflows.
  private static func counts(
    _ plan: [LayerPlan], prefix: String, shape: (Int, Int, Int),
    into counts: inout [(name: String, count: Int)]
  ) -> (Int, Int, Int)? {
    func times(_ values: Int...) -> Int? {
      var result = 1
      for value in values {
        let (next, overflow) = result.multipliedReportingOverflow(by: value)
        guard !overflow, next >= 0 else { return nil }
        result = next
      }
      return result
    }
    var (channels, height, width) = shape
    for (index, step) in plan.enumerated() {
      let name = "\(prefix)\(index)"
      switch step {
      case .conv(let filters, let kernel, let stride, let padding, let bias):
        guard let weights = times(filters, channels, kernel, kernel) else { return nil }
        counts.append(("\(name).weight", weights))
        if bias { counts.append(("\(name).bias", filters)) }
        let paddedHeight = height + 2 * padding - kernel
        let paddedWidth = width + 2 * padding - kernel
        guard paddedHeight >= 0, paddedWidth >= 0 else { return nil }
        (channels, height, width) = (filters, paddedHeight / stride + 1, paddedWidth / stride + 1)
      case .batchNorm:
        for suffix in ["weight", "bias", "running_mean", "running_var"] {
          counts.append(("\(name).\(suffix)", channels))
        }
      case .relu:
        break
      case .maxPool(let size):
        height /= size
        width /= size
        guard height > 0, width > 0 else { return nil }
      case .flatten:
        guard let values = times(channels, height, width) else { return nil }
        (channels, height, width) = (values, 1, 1)
      case .globalAveragePool:
        guard height > 0, width > 0 else { return nil }
        (height, width) = (1, 1)
      case .dense(let outputs):
        guard height == 1, width == 1, let weights = times(outputs, channels) else { return nil }
        counts += [("\(name).weight", weights), ("\(name).bias", outputs)]
        channels = outputs
      case .residual(let main, let shortcut):
        guard
          let mainShape = Self.counts(
            main, prefix: "\(name).main.", shape: (channels, height, width), into: &counts),
          let shortcutShape = Self.counts(
            shortcut, prefix: "\(name).shortcut.", shape: (channels, height, width),
            into: &counts),
          mainShape == shortcutShape
        else { return nil }
        (channels, height, width) = mainShape
      }
    }
    return (channels, height, width)
  }

  /// A stored array as Float32, refusing values a Float cannot hold (the file was not written
  /// from Float32 weights).
  private static func floats(_ archive: ModelArchive, _ name: String, count: Int) throws(ModelError)
    -> [Float]
  {
    let values = try archive.doubles(name, count: count)
    var result = [Float]()
    result.reserveCapacity(count)
    for value in values {
      let single = Float(value)
      guard single.isFinite, Double(single) == value else {
        throw .corruptModelFile("array '\(name)' holds \(value), which is not a finite Float32")
      }
      result.append(single)
    }
    return result
  }
}

import GlimpseCore

extension CNNClassifier {
  /// Saves the weights and biases of every layer under PyTorch's `state_dict` names for the same
  /// layer list (`0.weight`, `0.bias`, `3.weight`, …; the seed network's are the anchor's), the
  /// image shape, and the training history. The layer layout itself is the architecture named in
  /// the hyperparameters, rebuilt on loading.
  ///
  /// Float32 values are stored as float64, which holds every one exactly, so a loaded model
  /// predicts bit for bit as the saved one.
  public func archive() -> ModelArchive {
    var doubles: [String: [Double]] = [
      "history.loss": history.map(\.loss), "history.accuracy": history.map(\.accuracy),
    ]
    for (index, layer) in network.layers.enumerated() {
      switch layer {
      case .conv(let conv):
        doubles["\(index).weight"] = conv.weights.map(Double.init)
        doubles["\(index).bias"] = conv.bias.map(Double.init)
      case .dense(let dense):
        doubles["\(index).weight"] = dense.weights.map(Double.init)
        doubles["\(index).bias"] = dense.bias.map(Double.init)
      case .relu, .maxPool, .flatten:
        break
      }
    }
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
      var network: Network<Float> = architecture.makeNetwork(
        input: shape, classes: classCount, initializer: .glorotUniform, using: &unused)
    else {
      throw .corruptModelFile(
        "images of \(shape) do not fit the '\(architecture.rawValue)' CNN")
    }
    var parameters: [[Float]] = []
    for (index, layer) in network.layers.enumerated() {
      switch layer {
      case .conv(let conv):
        parameters.append(try Self.floats(archive, "\(index).weight", count: conv.weights.count))
        parameters.append(try Self.floats(archive, "\(index).bias", count: conv.bias.count))
      case .dense(let dense):
        parameters.append(try Self.floats(archive, "\(index).weight", count: dense.weights.count))
        parameters.append(try Self.floats(archive, "\(index).bias", count: dense.bias.count))
      case .relu, .maxPool, .flatten:
        break
      }
    }
    network.setParameters(parameters)
    let losses = try archive.doubles("history.loss")
    let accuracies = try archive.doubles("history.accuracy", count: losses.count)
    self.init(
      hyperparameters: hyperparameters, classNames: archive.classNames, network: network,
      history: zip(losses, accuracies).map { EpochRecord(loss: $0, accuracy: $1) })
  }

  /// The stored arrays an architecture needs for images of `input` and `classes` outputs, with
  /// their lengths (`index.weight`, `index.bias`), in layer order; `nil` when the images do not
  /// fit the layers or a size overflows. Computed from the plan without building the layers:
  /// the same shape rules as the layers' `outputShape`, with checked arithmetic.
  static func parameterCounts(_ architecture: Architecture, input: ImageShape, classes: Int)
    -> [(name: String, count: Int)]?
  {
    func times(_ values: Int...) -> Int? {
      var result = 1
      for value in values {
        let (next, overflow) = result.multipliedReportingOverflow(by: value)
        guard !overflow, next >= 0 else { return nil }
        result = next
      }
      return result
    }
    var (channels, height, width) = (input.channels, input.height, input.width)
    var counts: [(name: String, count: Int)] = []
    for (index, step) in architecture.plan(classes: classes).enumerated() {
      switch step {
      case .conv(let filters, let kernel, let padding):
        guard let weights = times(filters, channels, kernel, kernel) else { return nil }
        counts += [("\(index).weight", weights), ("\(index).bias", filters)]
        height = height + 2 * padding - kernel + 1
        width = width + 2 * padding - kernel + 1
        channels = filters
        guard height > 0, width > 0 else { return nil }
      case .relu:
        break
      case .maxPool(let size):
        height /= size
        width /= size
        guard height > 0, width > 0 else { return nil }
      case .flatten:
        guard let values = times(channels, height, width) else { return nil }
        (channels, height, width) = (values, 1, 1)
      case .dense(let outputs):
        guard height == 1, width == 1, let weights = times(outputs, channels) else { return nil }
        counts += [("\(index).weight", weights), ("\(index).bias", outputs)]
        channels = outputs
      }
    }
    return counts
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

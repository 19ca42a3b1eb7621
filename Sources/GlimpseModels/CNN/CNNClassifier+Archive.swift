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

  public init(archive: ModelArchive) throws(ModelError) {
    guard archive.kind == Self.kind else {
      throw .wrongKind(found: archive.kind, expected: Self.kind)
    }
    let hyperparameters = try archive.hyperparameters(as: Hyperparameters.self)
    guard let shape = archive.imageShape, shape.valueCount == archive.featureCount else {
      throw .corruptModelFile("a CNN model needs an image shape of \(archive.featureCount) values")
    }
    guard archive.classNames.count >= 2 else {
      throw .corruptModelFile("a CNN model needs at least two classes")
    }
    var unused = SeededGenerator(seed: 0)
    guard
      var network: Network<Float> = hyperparameters.architecture.makeNetwork(
        input: shape, classes: archive.classNames.count, initializer: .glorotUniform,
        using: &unused)
    else {
      throw .corruptModelFile(
        "images of \(shape) do not fit the '\(hyperparameters.architecture.rawValue)' CNN")
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

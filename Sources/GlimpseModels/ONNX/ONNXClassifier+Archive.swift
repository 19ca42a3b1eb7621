import GlimpseCore

extension ONNXClassifier {
  /// Stores the ONNX file's bytes verbatim and the preprocessing.
  ///
  /// The bytes go in the integer array `onnx.model`, eight to a value, little-endian (the last
  /// value zero-padded), so that the model file holds the ONNX file's bytes unchanged in its
  /// payload (archive integers are written as 8 little-endian bytes) and costs no more than it;
  /// `onnx.byteCount` says where they end. The preprocessing is the hyperparameters' JSON.
  public func archive() -> ModelArchive {
    ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount, imageShape: imageShape,
      hyperparameters: hyperparameters, scalars: ["onnx.byteCount": Double(onnxBytes.count)],
      integers: ["onnx.model": Self.pack(onnxBytes)])
  }

  /// Restores a model saved by `archive()`: the ONNX bytes are read and checked again, and the
  /// graph run once on a blank batch, exactly as at import.
  /// - Throws: `ModelError.wrongKind`, or `.corruptModelFile` naming the field that is wrong
  ///   (or what is wrong with the ONNX bytes inside).
  public init(archive: ModelArchive) throws(ModelError) {
    guard archive.kind == Self.kind else {
      throw .wrongKind(found: archive.kind, expected: Self.kind)
    }
    let hyperparameters = try archive.hyperparameters(as: Hyperparameters.self) {
      h throws(ModelError) in try h.validate()
    }
    let shape = ImageShape(
      height: hyperparameters.height, width: hyperparameters.width,
      channels: hyperparameters.channels)
    guard archive.imageShape == shape, archive.featureCount == shape.valueCount else {
      throw .corruptModelFile(
        "field 'imageShape' disagrees with the preprocessing's \(shape)")
    }
    let byteCount = try archive.integerScalar("onnx.byteCount", in: 1...(1 << 40))
    let words = try archive.integers("onnx.model", count: (byteCount + 7) / 8)
    let bytes = Self.unpack(words, count: byteCount)
    do {
      let graph = try ONNXGraph(decoding: bytes)
      try self.init(
        bytes: bytes, graph: graph, hyperparameters: hyperparameters,
        classNames: archive.classNames, fixedBatch: Self.fixedBatch(graph))
    } catch {
      throw .corruptModelFile("the ONNX model inside does not load: \(error.description)")
    }
  }

  /// The graph input's fixed batch size, if it has one.
  static func fixedBatch(_ graph: ONNXGraph) -> Int? {
    guard let dims = graph.inputs.first?.shape, let first = dims.first,
      case .value(let v) = first, v > 0, v <= 1 << 20
    else { return nil }
    return Int(v)
  }

  /// Bytes as little-endian 8-byte words, the last zero-padded.
  static func pack(_ bytes: [UInt8]) -> [Int] {
    stride(from: 0, to: bytes.count, by: 8).map { start in
      var word: UInt64 = 0
      for k in 0..<min(8, bytes.count - start) { word |= UInt64(bytes[start + k]) << (8 * k) }
      return Int(Int64(bitPattern: word))
    }
  }

  /// The first `count` bytes of little-endian 8-byte words.
  static func unpack(_ words: [Int], count: Int) -> [UInt8] {
    var bytes = [UInt8]()
    bytes.reserveCapacity(count)
    for word in words {
      let bits = UInt64(bitPattern: Int64(word))
      for k in 0..<8 where bytes.count < count {
        bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * k)))
      }
    }
    return bytes
  }
}

import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// Protobuf bytes written by hand: a tag, then the value.
private func tag(_ field: Int, _ wire: Int) -> [UInt8] { varint(UInt64(field << 3 | wire)) }

private func varint(_ value: UInt64) -> [UInt8] {
  var value = value
  var bytes: [UInt8] = []
  repeat {
    let low = UInt8(value & 0x7F)
    value >>= 7
    bytes.append(value == 0 ? low : low | 0x80)
  } while value != 0
  return bytes
}

private func field(_ number: Int, bytes: [UInt8]) -> [UInt8] {
  tag(number, 2) + varint(UInt64(bytes.count)) + bytes
}

private func field(_ number: Int, _ text: String) -> [UInt8] {
  field(number, bytes: Array(text.utf8))
}

@Suite("ONNX reader: protobuf wire format, malformed files, graph checks")
struct ONNXReaderTests {
  @Test(
    "varints: 1 byte, 2 bytes, negative int64 as 10 bytes, Int64.min; 11 bytes or a 10th byte > 1 is an error"
  )
  func varints() throws {
    var reader = ProtobufReader([0x96, 0x01] + varint(UInt64(bitPattern: -2)) + [0x7F])
    #expect(try reader.readVarint() == 150)
    #expect(Int64(bitPattern: try reader.readVarint()) == -2)
    #expect(try reader.readVarint() == 127)
    #expect(reader.isAtEnd)
    #expect(varint(UInt64(bitPattern: -2)).count == 10)
    var smallest = ProtobufReader(varint(UInt64(bitPattern: Int64.min)))
    #expect(Int64(bitPattern: try smallest.readVarint()) == Int64.min)
    var overlong = ProtobufReader([UInt8](repeating: 0xFF, count: 10) + [0x01])
    #expect(throws: ONNXError.malformed(offset: 0, reason: "a varint overflows 64 bits")) {
      try overlong.readVarint()
    }
    var truncated = ProtobufReader([0x80, 0x80])
    #expect(throws: ONNXError.malformed(offset: 0, reason: "a varint is cut short")) {
      try truncated.readVarint()
    }
  }

  @Test(
    "a tensor's dims and int64_data read the same packed and unpacked (and mixed); unknown fields of every wire type are skipped"
  )
  func packedAndUnpacked() throws {
    let values: [Int64] = [3, -1, 300]
    let packedRun = values.flatMap { varint(UInt64(bitPattern: $0)) }
    let packed = field(1, bytes: varint(2)) + field(7, bytes: packedRun)
    let unpacked =
      tag(1, 0) + varint(2) + values.flatMap { tag(7, 0) + varint(UInt64(bitPattern: $0)) }
    let mixed =
      tag(1, 0) + varint(2) + tag(7, 0) + varint(3) + field(7, bytes: Array(packedRun.dropFirst()))
    let unknown =
      tag(99, 0) + varint(5) + tag(98, 1) + [UInt8](repeating: 1, count: 8)
      + tag(97, 5) + [1, 2, 3, 4] + field(96, "skip me")
    for bytes in [packed, unpacked, mixed, unknown + packed] {
      var reader = ProtobufReader(bytes + tag(2, 0) + varint(7))
      let tensor = try ONNX.TensorProto(reading: &reader)
      #expect(tensor.dims == [2])
      #expect(tensor.int64Data == values)
      #expect(tensor.dataType == 7)
    }
    var floats = ProtobufReader(
      field(4, bytes: [0, 0, 128, 63, 0, 0, 0, 64]) + tag(4, 5) + [0, 0, 64, 64])
    #expect(try ONNX.TensorProto(reading: &floats).floatData == [1, 2, 3])
  }

  @Test(
    "raw_data is read little-endian for FLOAT, DOUBLE, INT64, INT32, INT8, UINT8 and BOOL; external data is a clear error"
  )
  func rawData() throws {
    func tensor(_ type: ONNX.DataType, _ raw: [UInt8], dims: [Int64]) -> ONNX.TensorProto {
      var t = ONNX.TensorProto()
      t.dataType = type.rawValue
      t.dims = dims
      t.rawData = raw
      return t
    }
    #expect(
      try tensor(.float, [0, 0, 128, 63, 0, 0, 0, 192], dims: [2]).value()
        == .float(Tensor(shape: [2], values: [1, -2])))
    #expect(
      try tensor(.double, [0, 0, 0, 0, 0, 0, 0xF0, 0x3F], dims: [1]).value()
        == .float(Tensor(shape: [1], values: [1])))
    #expect(
      try tensor(.int64, [0xFE] + [UInt8](repeating: 0xFF, count: 7), dims: []).value()
        == .int64(Tensor(shape: [], values: [-2])))
    #expect(
      try tensor(.int32, [5, 0, 0, 0], dims: [1]).value() == .int64(Tensor(shape: [1], values: [5]))
    )
    #expect(
      try tensor(.int8, [0xFF, 1], dims: [2]).value()
        == .int64(Tensor(shape: [2], values: [-1, 1])))
    #expect(
      try tensor(.uint8, [0xFF], dims: [1]).value() == .int64(Tensor(shape: [1], values: [255])))
    #expect(
      try tensor(.bool, [1, 0], dims: [2]).value() == .int64(Tensor(shape: [2], values: [1, 0])))
    #expect(throws: ONNXError.self) { try tensor(.float, [0, 0, 128], dims: [1]).value() }
    #expect(throws: ONNXError.self) { try tensor(.float, [], dims: [-1]).value() }
    #expect(throws: ONNXError.self) { try tensor(.float, [], dims: [1 << 40, 1 << 40]).value() }
    var external = tensor(.float, [], dims: [1])
    external.name = "fc.weight"
    external.isExternal = true
    #expect(throws: ONNXError.self) { try external.value() }
    do {
      _ = try external.value()
    } catch {
      #expect(error.description.contains("'fc.weight'") && error.description.contains("external"))
    }
  }

  @Test(
    "every prefix of the MobileNet-shaped model (8981 bytes) is refused with an ONNXError, never a trap; malformed offsets lie within the prefix"
  )
  func truncatedAtEveryPrefix() throws {
    let bytes = try ONNXFixture.bytes("mobilenet.onnx")
    _ = try ONNXGraph(decoding: bytes)
    var malformed = 0
    for length in 0..<bytes.count {
      do {
        _ = try ONNXGraph(decoding: Array(bytes[..<length]))
        Issue.record("a prefix of \(length) bytes loaded")
      } catch {
        if case .malformed(let offset, _) = error {
          malformed += 1
          #expect(offset >= 0 && offset <= length)
        }
      }
    }
    #expect(malformed > bytes.count / 2)
  }

  @Test(
    "20 000 seeded random byte changes to the Keras-style model load or fail with an ONNXError, never a trap"
  )
  func mutatedBytes() throws {
    let original = try ONNXFixture.bytes("keras.onnx")
    var rng = SeededGenerator(seed: 18)
    for _ in 0..<20_000 {
      var bytes = original
      for _ in 0..<Int.random(in: 1...4, using: &rng) {
        let position = Int.random(in: 0..<bytes.count, using: &rng)
        bytes[position] = UInt8.random(in: 0...255, using: &rng)
      }
      _ = try? ONNXGraph(decoding: bytes)
    }
  }

  @Test(
    "300 seeded random byte changes each to the Keras-style, MobileNet-shaped and view-flattened models import as classifiers (a trial run) or fail with an ONNXError, never a trap",
    arguments: ["keras.onnx", "mobilenet.onnx", "viewflat.onnx"])
  func mutatedModelsRun(file: String) throws {
    let original = try ONNXFixture.bytes(file)
    var rng = SeededGenerator(seed: 1818)
    var imported = 0
    for _ in 0..<300 {
      var bytes = original
      for _ in 0..<Int.random(in: 1...3, using: &rng) {
        let position = Int.random(in: 0..<bytes.count, using: &rng)
        bytes[position] = UInt8.random(in: 0...255, using: &rng)
      }
      if (try? ONNXClassifier(onnx: bytes)) != nil { imported += 1 }
    }
    // Most changes land in weights, which still import.
    #expect(imported > 75)
  }

  @Test("an Erf node (fixtures/erf.onnx) is refused at load, naming the op type and the node")
  func unsupportedOperatorFromFile() throws {
    #expect(throws: ONNXError.unsupportedOperators([.init(opType: "Erf", nodes: ["gelu_erf"])])) {
      try ONNXGraph(decoding: try ONNXFixture.bytes("erf.onnx"))
    }
  }

  static func node(
    _ op: String, _ inputs: [String], _ outputs: [String], name: String = "", domain: String = ""
  ) -> ONNX.Node {
    var node = ONNX.Node()
    node.opType = op
    node.inputs = inputs
    node.outputs = outputs
    node.name = name
    node.domain = domain
    return node
  }

  static func model(_ nodes: [ONNX.Node], output: String = "y") -> ONNX.Model {
    var model = ONNX.Model()
    model.opsetImports = [ONNX.OperatorSet(domain: "", version: 17)]
    var input = ONNX.ValueInfo()
    input.name = "x"
    var out = ONNX.ValueInfo()
    out.name = output
    model.graph.inputs = [input]
    model.graph.outputs = [out]
    model.graph.nodes = nodes
    return model
  }

  @Test(
    "all unsupported operators are listed in one error, each with every node using it, other domains prefixed"
  )
  func unsupportedOperatorsListedTogether() throws {
    let model = Self.model([
      Self.node("Erf", ["x"], ["a"], name: "erf1"),
      Self.node("Relu", ["a"], ["b"]),
      Self.node("Erf", ["b"], ["c"], name: "erf2"),
      Self.node("Gelu", ["c"], ["d"]),
      Self.node("FusedConv", ["d"], ["y"], name: "fused", domain: "com.microsoft"),
    ])
    let expected = ONNXError.unsupportedOperators([
      .init(opType: "Erf", nodes: ["erf1", "erf2"]), .init(opType: "Gelu", nodes: ["#3"]),
      .init(opType: "com.microsoft:FusedConv", nodes: ["fused"]),
    ])
    #expect(throws: expected) { try ONNXGraph(model: model) }
    #expect(
      expected.description
        == "unsupported ONNX operators: Erf (erf1, erf2); Gelu (#3); com.microsoft:FusedConv (fused)"
    )
  }

  @Test(
    "nodes listed out of order run in topological order; a cycle, a missing input and a value produced twice are errors"
  )
  func topologicalOrder() throws {
    let shuffled = Self.model([
      Self.node("Relu", ["b"], ["y"], name: "last"),
      Self.node("Neg2", ["x"], ["a"], name: "first").with(op: "Sigmoid"),
      Self.node("Tanh", ["a"], ["b"], name: "middle"),
    ])
    let graph = try ONNXGraph(model: shuffled)
    #expect(graph.opTypes == ["Sigmoid", "Tanh", "Relu"])
    let result = try graph.run([.float(Tensor(shape: [1], values: [0]))])
    #expect(result == [.float(Tensor(shape: [1], values: [tanhf(0.5)]))])

    let cycle = Self.model([
      Self.node("Relu", ["x", "c"], ["a"], name: "p"), Self.node("Relu", ["a"], ["c"], name: "q"),
      Self.node("Relu", ["a"], ["y"]),
    ])
    #expect(throws: ONNXError.invalidGraph("the nodes 'p', 'q' form a cycle")) {
      try ONNXGraph(model: cycle)
    }
    let missing = Self.model([Self.node("Add", ["x", "w"], ["y"], name: "add")])
    #expect(
      throws: ONNXError.invalidGraph(
        "node 'add' (Add) reads 'w', which no node, initializer or graph input provides")
    ) {
      try ONNXGraph(model: missing)
    }
    let twice = Self.model([
      Self.node("Relu", ["x"], ["y"], name: "r1"), Self.node("Relu", ["x"], ["y"], name: "r2"),
    ])
    #expect(throws: ONNXError.self) { try ONNXGraph(model: twice) }
  }

  @Test("a node whose inputs do not fit fails with its name; so does an input of the wrong rank")
  func runtimeErrorsNameTheNode() throws {
    var model = Self.model([Self.node("Add", ["x", "x2"], ["y"], name: "sum")])
    var second = ONNX.ValueInfo()
    second.name = "x2"
    model.graph.inputs.append(second)
    let graph = try ONNXGraph(model: model)
    #expect(
      throws: ONNXError.nodeFailed(
        node: "sum", opType: "Add", reason: "shapes [2] and [3] do not broadcast")
    ) {
      try graph.run([
        .float(Tensor(shape: [2], repeating: 0)), .float(Tensor(shape: [3], repeating: 0)),
      ])
    }
    let classifierBytes = try ONNXFixture.bytes("seed.onnx")
    let seed = try ONNXGraph(decoding: classifierBytes)
    #expect(throws: ONNXError.self) {
      try seed.run([.float(Tensor(shape: [1, 1, 28], repeating: 0))])
    }
  }
}

@Suite("ONNX limits: hostile graphs and damaged model files fail with one message")
struct ONNXLimitTests {
  static func constant(_ name: String, _ values: [Int64]) -> ONNX.TensorProto {
    var tensor = ONNX.TensorProto()
    tensor.name = name
    tensor.dataType = ONNX.DataType.int64.rawValue
    tensor.dims = [Int64(values.count)]
    tensor.int64Data = values
    return tensor
  }

  @Test(
    "a Reshape to 2^40 values and a Pad by 2^40 fail naming the node, allocating nothing of that size"
  )
  func hugeShapesRefused() throws {
    var reshape = ONNXReaderTests.model([
      ONNXReaderTests.node("Reshape", ["x", "s"], ["y"], name: "grow")
    ])
    reshape.graph.initializers = [Self.constant("s", [1 << 20, 1 << 20, -1])]
    let graph = try ONNXGraph(model: reshape)
    #expect(throws: ONNXError.self) { try graph.run([.float(Tensor(shape: [1], values: [0]))]) }
    var pad = ONNXReaderTests.model([ONNXReaderTests.node("Pad", ["x", "p"], ["y"], name: "wide")])
    pad.graph.initializers = [Self.constant("p", [0, 1 << 40])]
    let padGraph = try ONNXGraph(model: pad)
    do {
      _ = try padGraph.run([.float(Tensor(shape: [1], values: [0]))])
      Issue.record("the pad ran")
    } catch {
      #expect(error.description.hasPrefix("ONNX node 'wide' (Pad):"))
    }
    var minimum = ONNXReaderTests.model([ONNXReaderTests.node("Pad", ["x", "p"], ["y"])])
    minimum.graph.initializers = [Self.constant("p", [Int64.min, 0])]
    #expect(throws: ONNXError.self) {
      try ONNXGraph(model: minimum).run([.float(Tensor(shape: [1], values: [0]))])
    }
  }

  @Test(
    "a Cast of image data to integers is refused at load (its values could make a later node fail on some images only); a Cast of a Shape is not"
  )
  func castOfDataRefused() throws {
    func cast(_ input: String) -> ONNX.Node {
      var node = ONNXReaderTests.node("Cast", [input], ["c"], name: "to_int")
      var to = ONNX.Attribute()
      to.name = "to"
      to.type = ONNX.Attribute.Kind.int.rawValue
      to.i = Int64(ONNX.DataType.int64.rawValue)
      node.attributes = [to]
      return node
    }
    let data = ONNXReaderTests.model([cast("x"), ONNXReaderTests.node("Identity", ["c"], ["y"])])
    #expect(
      throws: ONNXError.unsupportedOperators([
        .init(opType: "Cast (image data to integers)", nodes: ["to_int"])
      ])
    ) { try ONNXGraph(model: data) }
    let shape = ONNXReaderTests.model([
      ONNXReaderTests.node("Shape", ["x"], ["s"]), cast("s"),
      ONNXReaderTests.node("Identity", ["c"], ["y"]),
    ])
    let graph = try ONNXGraph(model: shape)
    #expect(
      try graph.run([.float(Tensor(shape: [2, 3], repeating: 0))]) == [
        .int64(Tensor(shape: [2], values: [2, 3]))
      ])
  }

  @Test(
    "a model file whose ONNX bytes are cut, or whose byte count disagrees, is refused as a damaged model file"
  )
  func damagedArchive() throws {
    let bytes = try ONNXFixture.bytes("seed.onnx")
    let classifier = try ONNXClassifier(onnx: bytes)
    var archive = classifier.archive()
    archive.scalars["onnx.byteCount"] = Double(bytes.count - 100)
    do {
      _ = try ClassifierFile.decode(archive.encoded())
      Issue.record("a cut model loaded")
    } catch {
      guard case .corruptModelFile(let reason) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(reason.contains("'onnx.model'") || reason.contains("ONNX"), "\(reason)")
    }
    var wrongShape = classifier.archive()
    wrongShape.imageShape = ImageShape(height: 14, width: 56, channels: 1)
    #expect(throws: ModelError.self) { try ClassifierFile.decode(wrongShape.encoded()) }
  }
}

extension ONNX.Node {
  fileprivate func with(op: String) -> ONNX.Node {
    var copy = self
    copy.opType = op
    return copy
  }
}

#if canImport(Glibc)
  import Glibc
#endif

import GlimpseCore
import Testing

@testable import GlimpseModels

/// The stem sum of `ONNXClassifier+StemSum` (the first convolution of a masked batch computed
/// once per superpixel and summed per row) against scoring the materialised rows, on seeded
/// random graphs; and the graphs that must fall back to building every image.
@Suite("ONNX stem sum: the first convolution once per superpixel")
struct ONNXStemSumTests {
  /// One random graph: [Transpose] → Conv (bias) → [BatchNormalization] → [Relu | Clip(0, 6)]
  /// → MaxPool 2×2 → GlobalAveragePool → Flatten → Gemm (5 logits).
  struct Case: Sendable, CustomTestStringConvertible {
    var name: String
    var height: Int
    var width: Int
    var channels: Int
    var nhwc = false
    var filters: Int
    var kernel: [Int]
    var strides = [1, 1]
    var dilations = [1, 1]
    var pads = [0, 0, 0, 0]
    var autoPad: String?
    var group = 1
    var batchNormalization = false
    var activation: String?
    var bgr = false
    var scale = 1.0
    var mean: [Double]?
    var std: [Double]?
    /// Segments in the masked batch.
    var groupCount = 7
    /// Whether a pixel's channels may fall in different groups (`MaskedBatch` allows it).
    var groupsPerColumn = false

    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(
      name: "7×7/2 pad 3, RGB, ImageNet mean/std, BatchNormalization + Relu, 13×17",
      height: 13, width: 17, channels: 3, filters: 8, kernel: [7, 7], strides: [2, 2],
      pads: [3, 3, 3, 3], batchNormalization: true, activation: "Relu",
      mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]),
    Case(
      name: "3×3/1 dilation 2, asymmetric pads, group 3 (multiplier 2), BGR at scale 255, Clip",
      height: 11, width: 9, channels: 3, filters: 6, kernel: [3, 3], dilations: [2, 2],
      pads: [1, 0, 2, 1], group: 3, activation: "Clip", bgr: true, scale: 255,
      mean: [103.9, 116.8, 123.7], groupsPerColumn: true),
    Case(
      name: "depthwise 5×3, strides 2×1, no activation, 15×10",
      height: 15, width: 10, channels: 3, filters: 3, kernel: [5, 3], strides: [2, 1],
      pads: [2, 1, 1, 1], group: 3),
    Case(
      name: "NHWC through a Transpose, 4×4/3 SAME_UPPER, Relu, 14×11",
      height: 14, width: 11, channels: 3, nhwc: true, filters: 5, kernel: [4, 4], strides: [3, 3],
      autoPad: "SAME_UPPER", activation: "Relu", std: [0.5, 0.25, 0.2]),
    Case(
      name: "grey, 3×3/2 VALID, one segment, 9×12",
      height: 9, width: 12, channels: 1, filters: 4, kernel: [3, 3], strides: [2, 2],
      autoPad: "VALID", activation: "Relu", mean: [0.5], groupCount: 1),
  ]

  static func model(_ c: Case, seed: UInt64) -> ONNX.Model {
    typealias F = ONNXFusionTests
    var rng = SeededGenerator(seed: seed)
    var model = F.emptyModel()
    let m = c.filters
    var initializers = [
      F.weights(
        "w", [m, c.channels / c.group] + c.kernel, scale: 0.3, using: &rng),
      F.weights("b", [m], scale: 0.2, using: &rng),
      F.weights("fc", [m, 5], scale: 0.5, using: &rng),
      F.weights("fcb", [5], scale: 0.1, using: &rng),
    ]
    if c.batchNormalization {
      initializers += [
        F.weights("bn.gamma", [m], scale: 0.5, using: &rng, offset: 1),
        F.weights("bn.beta", [m], scale: 0.2, using: &rng),
        F.weights("bn.mean", [m], scale: 0.2, using: &rng),
        F.weights("bn.var", [m], scale: 0.5, using: &rng, offset: 1),
      ]
    }
    var low = ONNX.TensorProto()
    (low.name, low.dataType, low.floatData) = ("low", ONNX.DataType.float.rawValue, [0])
    var high = low
    (high.name, high.floatData) = ("high", [6])
    model.graph.initializers = initializers + [low, high]
    var nodes: [ONNX.Node] = []
    var data = "x"
    if c.nhwc {
      nodes.append(F.node("Transpose", ["x"], "t", [F.ints("perm", [0, 3, 1, 2])]))
      data = "t"
    }
    var attributes = [
      F.ints("kernel_shape", c.kernel.map { Int64($0) }),
      F.ints("strides", c.strides.map { Int64($0) }),
      F.ints("dilations", c.dilations.map { Int64($0) }),
      F.ints("group", []),
    ]
    attributes[3].type = ONNX.Attribute.Kind.int.rawValue
    attributes[3].i = Int64(c.group)
    if let autoPad = c.autoPad {
      var attribute = ONNX.Attribute()
      attribute.name = "auto_pad"
      attribute.type = ONNX.Attribute.Kind.string.rawValue
      attribute.s = Array(autoPad.utf8)
      attributes.append(attribute)
    } else {
      attributes.append(F.ints("pads", c.pads.map { Int64($0) }))
    }
    nodes.append(F.node("Conv", [data, "w", "b"], "c", attributes))
    var last = "c"
    if c.batchNormalization {
      nodes.append(
        F.node("BatchNormalization", [last, "bn.gamma", "bn.beta", "bn.mean", "bn.var"], "n"))
      last = "n"
    }
    switch c.activation {
    case "Relu"?: nodes.append(F.node("Relu", [last], "a"))
    case "Clip"?: nodes.append(F.node("Clip", [last, "low", "high"], "a"))
    default: nodes.append(F.node("Identity", [last], "a"))
    }
    nodes += [
      F.node(
        "MaxPool", ["a"], "p",
        [
          F.ints("kernel_shape", [2, 2]), F.ints("strides", [1, 1]), F.ints("pads", [0, 0, 1, 1]),
        ]
      ),
      F.node("GlobalAveragePool", ["p"], "g"),
      F.node("Flatten", ["g"], "f"),
      F.node("Gemm", ["f", "fc", "fcb"], "y"),
    ]
    model.graph.nodes = nodes
    return model
  }

  static func classifier(_ c: Case, model: ONNX.Model) throws -> ONNXClassifier {
    let graph = try ONNXGraph(model: model)
    let settings = ONNXClassifier.Hyperparameters(
      layout: c.nhwc ? .nhwc : .nchw, height: c.height, width: c.width, channels: c.channels,
      scale: c.scale, mean: c.mean ?? Array(repeating: 0, count: c.channels),
      std: c.std ?? Array(repeating: 1, count: c.channels), bgr: c.bgr, output: .logits)
    // A batch of 4 with 23 rows: the last graph batch is padded.
    return try ONNXClassifier(
      bytes: [], graph: graph, hyperparameters: settings, classNames: nil, fixedBatch: 4)
  }

  /// A masked batch of blocky random segments, an image and a fill in [0, 1], and 23 rows of
  /// non-binary coefficients in [−0.5, 1.5] with an all-zero and an all-one row.
  static func batch(_ c: Case, seed: UInt64, rows: Int = 23) -> MaskedBatch {
    var rng = SeededGenerator(seed: seed)
    let width = c.height * c.width * c.channels
    let cells = (0..<64).map { _ in Int32(rng.next() % UInt64(c.groupCount)) }
    let groups = (0..<width).map { p -> Int32 in
      let pixel = p / c.channels
      let (y, x) = (pixel / c.width, pixel % c.width)
      let cell = Int(cells[((y / 3) * 8 + x / 4 + (c.groupsPerColumn ? p % c.channels : 0)) % 64])
      return Int32(cell)
    }
    let image = (0..<width).map { _ in rng.nextUnitDouble() }
    let base = (0..<width).map { _ in rng.nextUnitDouble() * 0.5 }
    var coefficients = Matrix(rows: rows, columns: c.groupCount) { _, _ in
      rng.nextUnitDouble() * 2 - 0.5
    }
    for g in 0..<c.groupCount where rows >= 3 {
      coefficients[0, g] = 0
      coefficients[1, g] = 1
      if g % 3 == 1 { coefficients[2, g] = 0 }
    }
    return MaskedBatch(
      base: base, delta: zip(image, base).map { $0 - $1 }, groups: groups,
      groupCount: c.groupCount, coefficients: coefficients)
  }

  static func maxDifference<A: Collection<Double>, B: Collection<Double>>(_ a: A, _ b: B) -> Double
  {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  @Test(
    "the stem sum's first-conv output equals the Conv of each materialised image within 1e-5 relative (stride 1 and 2, pads, dilation, groups, depthwise, NCHW and NHWC, BGR, mean/std, Relu, Clip)",
    arguments: cases)
  func stemOutputMatchesConvolution(c: Case) throws {
    let model = Self.model(c, seed: 11)
    let classifier = try Self.classifier(c, model: model)
    let stem = try #require(classifier.graph.stem)
    #expect(stem.transposed == c.nhwc)
    #expect(stem.activation != nil || c.activation == nil)
    let batch = Self.batch(c, seed: 21)
    let sum = try #require(
      try StemSum(stem: stem, settings: classifier.hyperparameters, batch: batch, always: true))
    let rows = batch.materialized()
    var worst = 0.0
    for r in 0..<batch.rows {
      let image = ONNXClassifier.input(classifier.hyperparameters, count: 1) { _, index in
        rows[r, index]
      }
      guard
        case .float(let reference) = try classifier.graph.run([.float(image)], keeping: stem.output)
      else {
        Issue.record("the stem output is not float")
        return
      }
      var assembled = [Float](repeating: .nan, count: sum.rowCount)
      batch.coefficients.storage.withUnsafeBufferPointer { coefficients in
        assembled.withUnsafeMutableBufferPointer { out in
          sum.write(coefficients.baseAddress! + r * batch.groupCount, into: out.baseAddress!)
        }
      }
      #expect(reference.shape == [1, sum.channels, sum.height, sum.width])
      let scale = Double(reference.values.map { abs($0) }.max() ?? 0)
      let difference = Self.maxDifference(
        assembled.map { Double($0) }, reference.values.map { Double($0) })
      worst = max(worst, difference / max(scale, 1e-30))
      // The activation clamps: Relu leaves zeros, Clip(0, 6) tops at 6 only where reached.
      if c.activation != nil { #expect(assembled.allSatisfy { $0 >= 0 }) }
    }
    #expect(worst <= 1e-5, "\(c.name): relative difference \(worst)")
  }

  @Test(
    "masked batches scored through the stem sum give the materialised rows' probabilities within 1e-5",
    arguments: cases)
  func probabilitiesMatchMaterialised(c: Case) throws {
    for seed in [3, 4] as [UInt64] {
      let model = Self.model(c, seed: seed)
      let classifier = try Self.classifier(c, model: model)
      let batch = Self.batch(c, seed: seed + 40)
      let stem = try #require(classifier.graph.stem)
      let sum = try #require(
        try StemSum(stem: stem, settings: classifier.hyperparameters, batch: batch, always: true))
      let p = classifier.scored(batch, stem: sum)
      let reference = classifier.predictProbabilities(batch.materialized())
      #expect(p.rows == batch.rows && p.columns == 5)
      let difference = Self.maxDifference(p.storage, reference.storage)
      #expect(difference <= 1e-5, "\(c.name), seed \(seed): \(difference)")
      // The rows differ from each other: the coefficients reached the scores.
      #expect(Self.maxDifference(p.row(0), p.row(1)) > 1e-4)
    }
  }

  @Test(
    "the stem sum runs when it pays (a 7×7 stem over 23 rows) and not for a single row; predictProbabilities takes it then"
  )
  func precomputationPaysOnlyForEnoughRows() throws {
    let c = Self.cases[0]
    let classifier = try Self.classifier(c, model: Self.model(c, seed: 5))
    let many = Self.batch(c, seed: 6)
    #expect(classifier.stemSum(many) != nil)
    let one = Self.batch(c, seed: 6, rows: 1)
    #expect(classifier.stemSum(one) == nil)
    // One row falls back to the materialised path: the same bits.
    #expect(
      classifier.predictProbabilities(one) == classifier.predictProbabilities(one.materialized()))
    let p = classifier.predictProbabilities(many)
    #expect(
      Self.maxDifference(p.storage, classifier.predictProbabilities(many.materialized()).storage)
        <= 1e-5)
  }

  /// A graph whose input feeds two Convs added together, or a Mul before its Conv.
  static func fallbackModel(twoReaders: Bool) -> ONNX.Model {
    typealias F = ONNXFusionTests
    var model = Self.model(Self.cases[0], seed: 8)
    var rng = SeededGenerator(seed: 9)
    model.graph.initializers.append(F.weights("w2", [8, 3, 7, 7], scale: 0.3, using: &rng))
    model.graph.initializers.append(F.weights("k", [1], scale: 1, using: &rng, offset: 1.5))
    let window = model.graph.nodes[0].attributes
    if twoReaders {
      model.graph.nodes[0] = F.node("Conv", ["x", "w", "b"], "c0", window)
      model.graph.nodes.insert(F.node("Conv", ["x", "w2"], "c1", window), at: 1)
      model.graph.nodes.insert(F.node("Add", ["c0", "c1"], "c"), at: 2)
    } else {
      model.graph.nodes[0] = F.node("Conv", ["s", "w", "b"], "c", window)
      model.graph.nodes.insert(F.node("Mul", ["x", "k"], "s"), at: 0)
    }
    return model
  }

  @Test(
    "an input read by two nodes, or by a non-Conv, has no stem: the masked batch scores to the bits of its materialised rows",
    arguments: [true, false])
  func fallbackKeepsBits(twoReaders: Bool) throws {
    let c = Self.cases[0]
    let classifier = try Self.classifier(c, model: Self.fallbackModel(twoReaders: twoReaders))
    #expect(classifier.graph.stem == nil)
    let batch = Self.batch(c, seed: 12)
    #expect(classifier.stemSum(batch) == nil)
    #expect(
      classifier.predictProbabilities(batch)
        == classifier.predictProbabilities(batch.materialized()))
  }
}

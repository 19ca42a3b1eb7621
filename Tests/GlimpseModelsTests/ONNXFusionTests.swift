import GlimpseCore
import Testing

@testable import GlimpseModels

/// The load-time rewrites of `ONNXGraph+Fusion` (BatchNormalization folded into Conv, Relu and
/// Clip fused into Conv and Add, 3×3 convolutions by Winograd) against the same graph run node
/// by node (`optimizing: false`), on seeded random weights.
@Suite("ONNX graph fusion")
struct ONNXFusionTests {
  /// A float initializer of seeded values in [-scale, scale].
  static func weights(
    _ name: String, _ shape: [Int], scale: Float, using rng: inout SeededGenerator,
    offset: Float = 0
  ) -> ONNX.TensorProto {
    var tensor = ONNX.TensorProto()
    tensor.name = name
    tensor.dataType = ONNX.DataType.float.rawValue
    tensor.dims = shape.map { Int64($0) }
    tensor.floatData = (0..<shape.reduce(1, *)).map { _ in
      offset + scale * Float(rng.nextUnitDouble() * 2 - 1)
    }
    return tensor
  }

  static func ints(_ name: String, _ values: [Int64]) -> ONNX.Attribute {
    var attribute = ONNX.Attribute()
    attribute.name = name
    attribute.type = ONNX.Attribute.Kind.ints.rawValue
    attribute.ints = values
    return attribute
  }

  /// A model of opset 17 with no node yet, one input "x" and one output "y" (shapes left open).
  static func emptyModel() -> ONNX.Model {
    var model = ONNX.Model()
    model.opsetImports = [ONNX.OperatorSet(domain: "", version: 17)]
    var input = ONNX.ValueInfo()
    input.name = "x"
    var output = ONNX.ValueInfo()
    output.name = "y"
    (model.graph.inputs, model.graph.outputs) = ([input], [output])
    return model
  }

  static func node(
    _ op: String, _ inputs: [String], _ output: String, _ attributes: [ONNX.Attribute] = []
  ) -> ONNX.Node {
    var node = ONNX.Node()
    node.opType = op
    node.inputs = inputs
    node.outputs = [output]
    node.name = output
    node.attributes = attributes
    return node
  }

  static func conv(
    _ input: String, _ weights: String, _ bias: String?, _ output: String, kernel: Int,
    stride: Int, pad: Int
  ) -> ONNX.Node {
    node(
      "Conv", [input, weights] + (bias.map { [$0] } ?? []), output,
      [
        ints("kernel_shape", [Int64(kernel), Int64(kernel)]),
        ints("strides", [Int64(stride), Int64(stride)]),
        ints("pads", Array(repeating: Int64(pad), count: 4)),
      ])
  }

  /// A ResNet-like piece: a 5×5/2 stem (bias) + BatchNormalization + Relu, a 3×3 conv of 16
  /// channels (no bias, Winograd) + BatchNormalization, the residual Add + Relu, a 3×3/2 conv
  /// with bias + Clip(0, 6) whose bounds are initializers (opset 11+).
  static func model(seed: UInt64) -> ONNX.Model {
    var rng = SeededGenerator(seed: seed)
    var model = emptyModel()
    var initializers = [
      weights("w1", [16, 3, 5, 5], scale: 0.25, using: &rng),
      weights("b1", [16], scale: 0.1, using: &rng),
      weights("w2", [16, 16, 3, 3], scale: 0.1, using: &rng),
      weights("w3", [8, 16, 3, 3], scale: 0.1, using: &rng),
      weights("b3", [8], scale: 0.1, using: &rng),
    ]
    for bn in ["bn1", "bn2"] {
      initializers += [
        weights("\(bn).gamma", [16], scale: 0.5, using: &rng, offset: 1),
        weights("\(bn).beta", [16], scale: 0.2, using: &rng),
        weights("\(bn).mean", [16], scale: 0.2, using: &rng),
        weights("\(bn).var", [16], scale: 0.5, using: &rng, offset: 1),
      ]
    }
    var low = ONNX.TensorProto()
    (low.name, low.dataType, low.floatData) = ("low", ONNX.DataType.float.rawValue, [0])
    var high = low
    (high.name, high.floatData) = ("high", [6])
    model.graph.initializers = initializers + [low, high]
    func bn(_ name: String, _ input: String, _ output: String) -> ONNX.Node {
      node(
        "BatchNormalization",
        [input, "\(name).gamma", "\(name).beta", "\(name).mean", "\(name).var"], output)
    }
    model.graph.nodes = [
      conv("x", "w1", "b1", "c1", kernel: 5, stride: 2, pad: 2),
      bn("bn1", "c1", "n1"),
      node("Relu", ["n1"], "r1"),
      conv("r1", "w2", nil, "c2", kernel: 3, stride: 1, pad: 1),
      bn("bn2", "c2", "n2"),
      node("Add", ["n2", "r1"], "s"),
      node("Relu", ["s"], "r2"),
      conv("r2", "w3", "b3", "c3", kernel: 3, stride: 2, pad: 1),
      node("Clip", ["c3", "low", "high"], "y"),
    ]
    return model
  }

  static func images(_ count: Int, seed: UInt64) -> Tensor<Float> {
    var rng = SeededGenerator(seed: seed)
    return Tensor(
      shape: [count, 3, 20, 20],
      values: (0..<(count * 1200)).map { _ in Float(rng.nextUnitDouble()) })
  }

  @Test(
    "the rewritten graph (BN folded, Relu/Clip fused, Winograd 3×3) equals the node-by-node graph within 1e-5 on seeded weights and images"
  )
  func fusedEqualsUnfused() throws {
    for seed in [1, 2, 3] as [UInt64] {
      let model = Self.model(seed: seed)
      let fused = try ONNXGraph(model: model)
      let plain = try ONNXGraph(model: model, optimizing: false)
      let x = Self.images(3, seed: seed + 100)
      guard case .float(let a) = try fused.run([.float(x)])[0],
        case .float(let b) = try plain.run([.float(x)])[0]
      else {
        Issue.record("outputs are not float")
        return
      }
      #expect(a.shape == [3, 8, 5, 5])
      #expect(a.shape == b.shape)
      let difference = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
      #expect(difference <= 1e-5, "seed \(seed): max |fused − plain| = \(difference)")
      // The activations did something: Clip saturates some values at 0.
      #expect(b.values.contains(0) && b.values.contains { $0 > 0 })
    }
  }

  @Test(
    "the rewrite removes both BatchNormalizations and all three activations, and gives the 3×3 stride-1 conv Winograd kernels (one kind, not two); the file's op types are kept"
  )
  func rewriteHappens() throws {
    let graph = try ONNXGraph(model: Self.model(seed: 1))
    #expect(graph.opTypes.count == 9)
    #expect(graph.steps.map(\.opType) == ["Conv", "Conv", "Add", "Conv"])
    var winograd = 0
    var activations: [ONNXActivation?] = []
    for step in graph.steps {
      switch step.op {
      case .convolution(let prepared):
        // NCHW Winograd kernels for pads of 1, and then no `Conv2D` layer besides.
        if prepared.winogradKernels != nil || prepared.winograd != nil { winograd += 1 }
        #expect(prepared.winogradKernels == nil || prepared.winograd == nil)
        activations.append(prepared.activation)
      case .addActivation(let activation): activations.append(activation)
      default: activations.append(nil)
      }
    }
    #expect(winograd == 1)
    #expect(activations == [.relu, nil, .relu, .clip(min: 0, max: 6)])
  }

  @Test("a Conv output read by two nodes is not fused: the other reader sees the raw values")
  func sharedOutputNotFused() throws {
    var model = Self.model(seed: 4)
    // r1 = Relu(n1) and y also reads n1 through an Add: the BN result feeds two nodes.
    model.graph.nodes[8] = Self.node("Add", ["c3", "c3"], "y")
    model.graph.nodes[5] = Self.node("Add", ["n2", "n1"], "s")
    let fused = try ONNXGraph(model: model)
    #expect(fused.steps.contains { $0.opType == "Relu" })
    let plain = try ONNXGraph(model: model, optimizing: false)
    let x = Self.images(2, seed: 7)
    guard case .float(let a) = try fused.run([.float(x)])[0],
      case .float(let b) = try plain.run([.float(x)])[0]
    else {
      Issue.record("outputs are not float")
      return
    }
    let difference = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
    #expect(difference <= 1e-5)
    // Negative values survive: the shared BN output was not clipped at 0.
    #expect(a.values.contains { $0 < 0 })
  }

  @Test("the fused Relu/Clip activation equals the separate operator on every value")
  func activationMatchesOperator() throws {
    let values: [Float] = [-3, -0.5, -0, 0, 0.25, 5.9, 6, 7.5, .infinity, -.infinity]
    let x = Tensor(shape: [values.count], values: values)
    guard case .float(let relu) = try ONNXKernels.run(.relu, [.float(x)], opset: 17)[0],
      case .float(let clip) = try ONNXKernels.run(.clip(min: 0, max: 6), [.float(x)], opset: 10)[0]
    else {
      Issue.record("outputs are not float")
      return
    }
    #expect(values.map { ONNXActivation.relu($0) } == relu.values)
    #expect(values.map { ONNXActivation.clip(min: 0, max: 6)($0) } == clip.values)
  }
}

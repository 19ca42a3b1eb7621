// Implementation notes
// 1. Attributes are read once, when the model is loaded, into typed settings; a node whose
//    attributes Glimpse cannot honour (Pad's reflect mode, a MaxPool asked for its indices,
//    training-mode BatchNormalization) counts as an unsupported operator, so that loading
//    fails with one message listing everything missing, before any image is scored.
// 2. Semantics follow the ONNX operator specification (https://onnx.ai/onnx/operators/) for
//    opsets 7–21; where an operator changed, the model's default-domain opset picks the
//    version: Softmax (13: one axis; before: the trailing dims flattened from `axis`), Clip
//    (11: min/max inputs; before: attributes), Pad (11: pads input), Squeeze/Unsqueeze (13:
//    axes input), ReduceMean (18: axes input).

/// Settings of a convolution or pooling window over the two spatial axes of NCHW maps.
struct WindowSettings: Sendable, Equatable {
  /// `kernel_shape`; `nil` for Conv without the attribute (taken from the weights).
  var kernel: [Int]?
  /// `strides` (default 1).
  var strides: [Int]
  /// `dilations` (default 1).
  var dilations: [Int]
  /// `pads`: begin of each axis, then end of each axis.
  var pads: [Int]
  /// `auto_pad`: NOTSET, SAME_UPPER, SAME_LOWER or VALID.
  var autoPad: String
  /// `ceil_mode` (pools only).
  var ceilMode: Bool
}

/// An ONNX operator with its attributes read and checked.
enum ONNXOperator: Sendable, Equatable {
  case conv(WindowSettings, group: Int)
  case batchNormalization(epsilon: Float)
  case relu
  case leakyRelu(alpha: Float)
  /// Clip; the bounds are the opset < 11 attributes (inputs 1 and 2 from opset 11).
  case clip(min: Float, max: Float)
  case sigmoid
  case hardSigmoid(alpha: Float, beta: Float)
  case hardSwish
  case tanh
  case maxPool(WindowSettings)
  case averagePool(WindowSettings, countIncludePad: Bool)
  case globalAveragePool
  case globalMaxPool
  case gemm(transA: Bool, transB: Bool, alpha: Float, beta: Float)
  case matMul
  case add, sub, mul, div
  case flatten(axis: Int)
  case reshape(allowZero: Bool)
  case transpose(perm: [Int]?)
  case concat(axis: Int)
  /// Softmax; `flattening` is the opset < 13 rule (the dims from `axis` on flattened).
  case softmax(axis: Int, flattening: Bool)
  case identity
  /// Pad in constant mode; `pads`/`value` are the opset < 11 attributes.
  case pad(pads: [Int]?, value: Float)
  case constant(ONNXValue)
  case shape(start: Int, end: Int?)
  case gather(axis: Int)
  /// Unsqueeze; `axes` from the attribute (opset < 13), else from input 1.
  case unsqueeze(axes: [Int]?)
  /// Squeeze; `axes` from the attribute (opset < 13), else from input 1 (absent: all 1s).
  case squeeze(axes: [Int]?)
  /// ReduceMean; `axes` from the attribute (opset < 18), else from input 1.
  case reduceMean(axes: [Int]?, keepDims: Bool, noopWithEmptyAxes: Bool)
  /// Cast to float (`true`) or to an integer type.
  case cast(toFloat: Bool)
  /// A Conv prepared when the graph is built (`ONNXGraph.fused`): a fused activation, a
  /// Winograd layer; never read from a file.
  case convolution(PreparedConvolution)
  /// An Add with an activation fused into its output (`ONNXGraph.fused`); never read from a file.
  case addActivation(ONNXActivation)

  /// The op types Glimpse implements (default domain).
  static let supportedTypes: Set<String> = [
    "Conv", "BatchNormalization", "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid",
    "HardSwish", "Tanh", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Gemm",
    "MatMul", "Add", "Sub", "Mul", "Div", "Flatten", "Reshape", "Transpose", "Concat", "Softmax",
    "Identity", "Dropout", "Pad", "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze",
    "ReduceMean", "Cast",
  ]

  /// What keeps a supported op type from running this node, or `nil` when it can run.
  enum Refusal: Error {
    /// An operator or configuration Glimpse lacks: the op type as listed in the error.
    case unsupported(String)
    /// An attribute of the wrong type or value.
    case invalid(String)
  }

  /// The operator of `node` under default-domain opset `opset`.
  init(node: ONNX.Node, opset: Int) throws(Refusal) {
    let a = AttributeReader(node: node)
    let type = node.opType
    guard node.domain.isEmpty || node.domain == "ai.onnx" else {
      throw .unsupported("\(node.domain):\(type)")
    }
    switch type {
    case "Conv":
      self = .conv(try a.window(pool: false), group: try a.int("group", default: 1))
      guard case .conv(_, let group) = self, group >= 1 else {
        throw .invalid("attribute 'group' must be ≥ 1")
      }
    case "BatchNormalization":
      if try a.int("training_mode", default: 0) != 0 {
        throw .unsupported("BatchNormalization (training_mode 1)")
      }
      if opset < 9, try a.int("spatial", default: 1) != 1 {
        throw .unsupported("BatchNormalization (spatial 0)")
      }
      self = .batchNormalization(epsilon: try a.float("epsilon", default: 1e-5))
    case "Relu": self = .relu
    case "LeakyRelu": self = .leakyRelu(alpha: try a.float("alpha", default: 0.01))
    case "Clip":
      self = .clip(
        min: try a.float("min", default: -.greatestFiniteMagnitude),
        max: try a.float("max", default: .greatestFiniteMagnitude))
    case "Sigmoid": self = .sigmoid
    case "HardSigmoid":
      self = .hardSigmoid(
        alpha: try a.float("alpha", default: 0.2), beta: try a.float("beta", default: 0.5))
    case "HardSwish": self = .hardSwish
    case "Tanh": self = .tanh
    case "MaxPool":
      if node.outputs.count > 1, !node.outputs[1].isEmpty {
        throw .unsupported("MaxPool (Indices output)")
      }
      self = .maxPool(try a.window(pool: true))
    case "AveragePool":
      let window = try a.window(pool: true)
      guard window.dilations.allSatisfy({ $0 == 1 }) else {
        throw .unsupported("AveragePool (dilations)")
      }
      self = .averagePool(window, countIncludePad: try a.int("count_include_pad", default: 0) != 0)
    case "GlobalAveragePool": self = .globalAveragePool
    case "GlobalMaxPool": self = .globalMaxPool
    case "Gemm":
      self = .gemm(
        transA: try a.int("transA", default: 0) != 0, transB: try a.int("transB", default: 0) != 0,
        alpha: try a.float("alpha", default: 1), beta: try a.float("beta", default: 1))
    case "MatMul": self = .matMul
    case "Add": self = .add
    case "Sub": self = .sub
    case "Mul": self = .mul
    case "Div": self = .div
    case "Flatten": self = .flatten(axis: try a.int("axis", default: 1))
    case "Reshape": self = .reshape(allowZero: try a.int("allowzero", default: 0) != 0)
    case "Transpose": self = .transpose(perm: try a.ints("perm"))
    case "Concat":
      guard let axis = try a.optionalInt("axis") else {
        throw .invalid("attribute 'axis' is required")
      }
      self = .concat(axis: axis)
    case "Softmax":
      self =
        opset >= 13
        ? .softmax(axis: try a.int("axis", default: -1), flattening: false)
        : .softmax(axis: try a.int("axis", default: 1), flattening: true)
    case "Identity", "Dropout": self = .identity
    case "Pad":
      let mode = try a.string("mode", default: "constant")
      guard mode == "constant" else { throw .unsupported("Pad (mode '\(mode)')") }
      if opset < 11 {
        guard let pads = try a.ints("pads") else { throw .invalid("attribute 'pads' is required") }
        self = .pad(pads: pads, value: try a.float("value", default: 0))
      } else {
        self = .pad(pads: nil, value: 0)
      }
    case "Constant":
      self = .constant(try a.constantValue())
    case "Shape":
      self = .shape(start: try a.int("start", default: 0), end: try a.optionalInt("end"))
    case "Gather": self = .gather(axis: try a.int("axis", default: 0))
    case "Unsqueeze":
      let axes = opset < 13 ? try a.ints("axes") : nil
      if opset < 13, axes == nil { throw .invalid("attribute 'axes' is required") }
      self = .unsqueeze(axes: axes)
    case "Squeeze":
      self = .squeeze(axes: opset < 13 ? try a.ints("axes") ?? [] : nil)
    case "ReduceMean":
      self = .reduceMean(
        axes: opset < 18 ? try a.ints("axes") ?? [] : nil,
        keepDims: try a.int("keepdims", default: 1) != 0,
        noopWithEmptyAxes: try a.int("noop_with_empty_axes", default: 0) != 0)
    case "Cast":
      guard let to = try a.optionalInt("to") else { throw .invalid("attribute 'to' is required") }
      switch to {
      case 1, 11: self = .cast(toFloat: true)
      case 2, 3, 5, 6, 7, 9, 12, 13: self = .cast(toFloat: false)
      default: throw .unsupported("Cast (to \(ONNX.TensorProto.typeName(Int32(clamping: to))))")
      }
    default:
      throw .unsupported(type)
    }
  }
}

/// Reads a node's attributes with their types checked.
struct AttributeReader {
  let node: ONNX.Node

  private func attribute(_ name: String, _ kinds: [ONNX.Attribute.Kind]) throws(ONNXOperator
    .Refusal)
    -> ONNX.Attribute?
  {
    guard let attribute = node.attribute(name) else { return nil }
    // Files from IR < 2 leave `type` unset; the value fields then say what it is.
    guard attribute.type == 0 || kinds.contains(where: { $0.rawValue == attribute.type }) else {
      throw .invalid(
        "attribute '\(name)' has type \(attribute.type), expected \(kinds.map { "\($0)" }.joined(separator: " or "))"
      )
    }
    return attribute
  }

  func optionalInt(_ name: String) throws(ONNXOperator.Refusal) -> Int? {
    guard let value = try attribute(name, [.int]) else { return nil }
    guard let result = Int(exactly: value.i), (-(1 << 40)...(1 << 40)).contains(result) else {
      throw .invalid("attribute '\(name)' is \(value.i), out of range")
    }
    return result
  }

  func int(_ name: String, default value: Int) throws(ONNXOperator.Refusal) -> Int {
    try optionalInt(name) ?? value
  }

  func float(_ name: String, default value: Float) throws(ONNXOperator.Refusal) -> Float {
    try attribute(name, [.float])?.f ?? value
  }

  func ints(_ name: String) throws(ONNXOperator.Refusal) -> [Int]? {
    guard let value = try attribute(name, [.ints]) else { return nil }
    var result: [Int] = []
    for v in value.ints {
      guard (-(1 << 40)...(1 << 40)).contains(v) else {
        throw .invalid("attribute '\(name)' holds \(v), out of range")
      }
      result.append(Int(v))
    }
    return result
  }

  func string(_ name: String, default value: String) throws(ONNXOperator.Refusal) -> String {
    try attribute(name, [.string])?.text ?? value
  }

  /// Conv's and the pools' window attributes, checked for two spatial axes.
  func window(pool: Bool) throws(ONNXOperator.Refusal) -> WindowSettings {
    let kernel = try ints("kernel_shape")
    if pool, kernel == nil { throw .invalid("attribute 'kernel_shape' is required") }
    let rank = kernel?.count ?? 2
    guard rank == 2 else { throw .unsupported("\(node.opType) (\(rank)-D, only 2-D)") }
    let strides = try ints("strides") ?? [1, 1]
    let dilations = try ints("dilations") ?? [1, 1]
    let pads = try ints("pads") ?? [0, 0, 0, 0]
    let autoPad = try string("auto_pad", default: "NOTSET")
    guard strides.count == 2, dilations.count == 2, pads.count == 4 else {
      throw .unsupported(
        "\(node.opType) (not 2-D: strides \(strides), dilations \(dilations), pads \(pads))")
    }
    // At most 2²⁰ each, so that window arithmetic (output × stride, kernel × dilation) stays far
    // from overflow whatever the file says.
    let limit = 1 << 20
    guard strides.allSatisfy({ (1...limit).contains($0) }),
      dilations.allSatisfy({ (1...limit).contains($0) }),
      pads.allSatisfy({ (0...limit).contains($0) }),
      kernel?.allSatisfy({ (1...limit).contains($0) }) ?? true
    else {
      throw .invalid(
        "window attributes out of range: kernel \(kernel ?? []), strides \(strides), dilations \(dilations), pads \(pads)"
      )
    }
    guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
      throw .invalid("attribute 'auto_pad' is '\(autoPad)'")
    }
    return WindowSettings(
      kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad,
      ceilMode: try int("ceil_mode", default: 0) != 0)
  }

  /// A Constant node's value (`value`, `value_float(s)`, `value_int(s)`).
  func constantValue() throws(ONNXOperator.Refusal) -> ONNXValue {
    if let tensor = try attribute("value", [.tensor]) {
      guard let proto = tensor.t else { throw .invalid("attribute 'value' holds no tensor") }
      do {
        return try proto.value()
      } catch {
        throw .invalid("\(error)")
      }
    }
    if let value = try attribute("value_float", [.float]) {
      return .float(Tensor(shape: [], values: [value.f]))
    }
    if let value = try attribute("value_floats", [.floats]) {
      return .float(Tensor(shape: [value.floats.count], values: value.floats))
    }
    if let value = try attribute("value_int", [.int]) {
      return .int64(Tensor(shape: [], values: [value.i]))
    }
    if let value = try attribute("value_ints", [.ints]) {
      return .int64(Tensor(shape: [value.ints.count], values: value.ints))
    }
    if node.attribute("sparse_value") != nil || node.attribute("value_string") != nil
      || node.attribute("value_strings") != nil
    {
      throw .unsupported("Constant (sparse or string value)")
    }
    throw .invalid("no value attribute")
  }
}

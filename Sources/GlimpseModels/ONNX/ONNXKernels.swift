/// Why a node could not run on its inputs (wrapped into `ONNXError.nodeFailed` with the node).
struct KernelError: Error {
  var reason: String
  init(_ reason: String) { self.reason = reason }
}

/// The operators' computations on tensors.
enum ONNXKernels {
  /// The most values any tensor a node produces may hold: 2²⁸ (1 GB of Float32). A graph that
  /// asks for more (a hostile Pad or Reshape) fails instead of exhausting memory.
  static let maximumElementCount = 1 << 28

  /// Runs `op` on `inputs` (`nil` for omitted optional inputs).
  static func run(_ op: ONNXOperator, _ inputs: [ONNXValue?], opset: Int) throws(KernelError)
    -> [ONNXValue]
  {
    let args = Arguments(values: inputs)
    switch op {
    case .conv(let window, let group):
      let bias = try args.optionalFloat(2)
      return [
        .float(
          try conv(
            try args.float(0), weights: try args.float(1), bias: bias, window: window, group: group)
        )
      ]
    case .convolution(let prepared):
      return [
        .float(
          try convolution(
            try args.float(0), weights: try args.float(1), bias: try args.optionalFloat(2),
            prepared: prepared))
      ]
    case .addActivation(let activation):
      return [.float(try addActivation(try args.float(0), try args.float(1), activation))]
    case .batchNormalization(let epsilon):
      return [
        .float(
          try batchNormalization(
            try args.float(0), scale: try args.float(1), bias: try args.float(2),
            mean: try args.float(3), variance: try args.float(4), epsilon: epsilon))
      ]
    case .relu: return [.float(map(try args.float(0)) { max($0, 0) })]
    case .leakyRelu(let alpha):
      return [.float(map(try args.float(0)) { $0 >= 0 ? $0 : alpha * $0 })]
    case .clip(var low, var high):
      if opset >= 11 {
        if let value = try args.optionalFloat(1) { low = try scalar(value, "min") }
        if let value = try args.optionalFloat(2) { high = try scalar(value, "max") }
      }
      return [.float(map(try args.float(0)) { Swift.min(Swift.max($0, low), high) })]
    case .sigmoid: return [.float(map(try args.float(0)) { 1 / (1 + expf(-$0)) })]
    case .hardSigmoid(let alpha, let beta):
      return [.float(map(try args.float(0)) { Swift.max(0, Swift.min(1, alpha * $0 + beta)) })]
    case .hardSwish:
      return [.float(map(try args.float(0)) { $0 * Swift.max(0, Swift.min(1, $0 / 6 + 0.5)) })]
    case .tanh: return [.float(map(try args.float(0)) { tanhf($0) })]
    case .maxPool(let window): return [.float(try maxPool(try args.float(0), window: window))]
    case .averagePool(let window, let countIncludePad):
      return [
        .float(try averagePool(try args.float(0), window: window, countIncludePad: countIncludePad))
      ]
    case .globalAveragePool: return [.float(try globalPool(try args.float(0), max: false))]
    case .globalMaxPool: return [.float(try globalPool(try args.float(0), max: true))]
    case .gemm(let transA, let transB, let alpha, let beta):
      return [
        .float(
          try gemm(
            try args.float(0), try args.float(1), c: try args.optionalFloat(2), transA: transA,
            transB: transB, alpha: alpha, beta: beta))
      ]
    case .matMul: return [.float(try matMul(try args.float(0), try args.float(1)))]
    case .add: return [try binary(args, float: { $0 + $1 }, int: { $0 &+ $1 })]
    case .sub: return [try binary(args, float: { $0 - $1 }, int: { $0 &- $1 })]
    case .mul: return [try binary(args, float: { $0 * $1 }, int: { $0 &* $1 })]
    case .div:
      // Integer division truncates (C's rule, onnxruntime's); by zero and Int64.min / −1,
      // which would trap, give 0 and Int64.min.
      return [
        try binary(
          args, float: { $0 / $1 },
          int: { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue })
      ]
    case .flatten(let axis): return [try flatten(try args.any(0), axis: axis)]
    case .reshape(let allowZero):
      return [try reshape(try args.any(0), shape: try args.int(1).values, allowZero: allowZero)]
    case .transpose(let perm): return [try transpose(try args.any(0), perm: perm)]
    case .concat(let axis): return [try concat(args, axis: axis)]
    case .softmax(let axis, let flattening):
      return [.float(try softmax(try args.float(0), axis: axis, flattening: flattening))]
    case .identity: return [try args.any(0)]
    case .pad(let attributePads, var value):
      let pads: [Int]
      if let attributePads {
        pads = attributePads
      } else {
        let values = try args.int(1).values
        guard
          values.allSatisfy({
            (-Int64(maximumElementCount)...Int64(maximumElementCount)).contains($0)
          })
        else {
          throw KernelError("pads \(values) are out of range")
        }
        pads = values.map { Int($0) }
        if let constant = try args.optionalFloat(2) {
          value = try scalar(constant, "constant_value")
        }
        if args.values.count > 3, args.values[3] != nil {
          throw KernelError("the 'axes' input of Pad is not supported")
        }
      }
      return [try pad(try args.any(0), pads: pads, value: value)]
    case .constant(let value): return [value]
    case .shape(let start, let end):
      let shape = try args.any(0).shape
      let range = sliceRange(count: shape.count, start: start, end: end)
      return [.int64(Tensor(shape: [range.count], values: shape[range].map { Int64($0) }))]
    case .gather(let axis):
      return [try gather(try args.any(0), indices: try args.int(1), axis: axis)]
    case .unsqueeze(let attributeAxes):
      let axes: [Int]
      if let attributeAxes {
        axes = attributeAxes
      } else {
        axes = try axesInput(args, required: true)
      }
      return [try unsqueeze(try args.any(0), axes: axes)]
    case .squeeze(let attributeAxes):
      let axes: [Int]
      if let attributeAxes {
        axes = attributeAxes
      } else {
        axes = try axesInput(args, required: false)
      }
      return [try squeeze(try args.any(0), axes: axes)]
    case .reduceMean(let attributeAxes, let keepDims, let noop):
      let axes: [Int]
      if let attributeAxes {
        axes = attributeAxes
      } else {
        axes = try axesInput(args, required: false)
      }
      if axes.isEmpty && noop { return [try args.any(0)] }
      return [.float(try reduceMean(try args.float(0), axes: axes, keepDims: keepDims))]
    case .cast(let toFloat):
      switch (try args.any(0), toFloat) {
      case (.float(let t), true): return [.float(t)]
      case (.int64(let t), false): return [.int64(t)]
      case (.int64(let t), true):
        return [.float(Tensor(shape: t.shape, values: t.values.map { Float($0) }))]
      case (.float(let t), false):
        return [
          .int64(
            Tensor(
              shape: t.shape,
              values: t.values.map {
                $0.isFinite ? Int64(clamping: Int64(exactly: $0.rounded(.towardZero)) ?? 0) : 0
              }))
        ]
      }
    }
  }

  /// Input 1 as a list of axes (Squeeze, Unsqueeze, ReduceMean from opsets 13 and 18);
  /// absent and optional: none.
  static func axesInput(_ args: Arguments, required: Bool) throws(KernelError) -> [Int] {
    if !required, try args.optionalInt(1) == nil { return [] }
    return try args.int(1).values.map { Int(clamping: $0) }
  }

  /// A node's inputs, fetched with their type checked.
  struct Arguments {
    var values: [ONNXValue?]

    func any(_ index: Int) throws(KernelError) -> ONNXValue {
      guard index < values.count, let value = values[index] else {
        throw KernelError("input \(index) is missing")
      }
      return value
    }

    func float(_ index: Int) throws(KernelError) -> Tensor<Float> {
      switch try any(index) {
      case .float(let t): return t
      case .int64: throw KernelError("input \(index) is int64, expected float")
      }
    }

    func int(_ index: Int) throws(KernelError) -> Tensor<Int64> {
      switch try any(index) {
      case .int64(let t): return t
      case .float: throw KernelError("input \(index) is float, expected an integer tensor")
      }
    }

    func optionalFloat(_ index: Int) throws(KernelError) -> Tensor<Float>? {
      guard index < values.count, values[index] != nil else { return nil }
      return try float(index)
    }

    func optionalInt(_ index: Int) throws(KernelError) -> Tensor<Int64>? {
      guard index < values.count, values[index] != nil else { return nil }
      return try int(index)
    }
  }

  /// The one value of a one-element tensor.
  static func scalar(_ tensor: Tensor<Float>, _ name: String) throws(KernelError) -> Float {
    guard tensor.count == 1 else {
      throw KernelError("'\(name)' has \(tensor.count) values, expected 1")
    }
    return tensor.values[0]
  }

  /// `transform` of every value.
  static func map(_ tensor: Tensor<Float>, _ transform: (Float) -> Float) -> Tensor<Float> {
    Tensor(shape: tensor.shape, values: tensor.values.map(transform))
  }

  /// The element count of `shape`, refused when it overflows or exceeds the limit.
  static func elementCount(_ shape: [Int]) throws(KernelError) -> Int {
    var count = 1
    for size in shape {
      guard size >= 0 else { throw KernelError("shape \(shape) has a negative size") }
      let (product, overflow) = count.multipliedReportingOverflow(by: size)
      guard !overflow, product <= maximumElementCount else {
        throw KernelError("shape \(shape) has more than \(maximumElementCount) values")
      }
      count = product
    }
    return count
  }

  /// `axis` in `-rank..<rank` made non-negative.
  static func normalize(axis: Int, rank: Int, inclusive: Bool = false) throws(KernelError) -> Int {
    let upper = inclusive ? rank + 1 : rank
    let result = axis < 0 ? axis + upper : axis
    guard result >= 0, result < upper else {
      throw KernelError("axis \(axis) is out of range for rank \(rank)")
    }
    return result
  }

  /// Python's `shape[start:end]` with clamping, as Shape's `start`/`end` (opset 15).
  static func sliceRange(count: Int, start: Int, end: Int?) -> Range<Int> {
    func clamp(_ value: Int) -> Int {
      Swift.min(Swift.max(value < 0 ? value + count : value, 0), count)
    }
    let lower = clamp(start)
    let upper = clamp(end ?? count)
    return lower..<Swift.max(lower, upper)
  }

  /// Row-major strides of `shape`.
  static func strides(_ shape: [Int]) -> [Int] {
    var result = [Int](repeating: 1, count: shape.count)
    var stride = 1
    for axis in shape.indices.reversed() {
      result[axis] = stride
      stride *= shape[axis]
    }
    return result
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Implementation notes
// 1. The rewrites run once, when the graph is built, on the ordered steps; the graph the file
//    describes (`opTypes`, error messages naming nodes) is unchanged, only how it runs:
//    a. BatchNormalization after a Conv whose weights (and bias) are initializers, when the
//       Conv's output feeds nothing else, is folded into the Conv: W'[m] = W[m]·s[m],
//       b'[m] = (b[m] − mean[m])·s[m] + β[m], s = γ / √(var + ε), computed in Double and rounded
//       once (Ioffe & Szegedy 2015, eq. of the inference-mode transform). PyTorch's exporter
//       already folds it in eval mode; Keras and training-mode exports keep the node.
//    b. Relu, or Clip with constant bounds (ReLU6), after a Conv or an Add whose output feeds
//       nothing else is applied as the Conv or Add writes its output: one pass over the maps
//       and one allocation fewer per activation.
//    c. A 3×3 stride-1 group-1 Conv with symmetric padding, 8 or more input channels and
//       initializer weights runs through the CNN module's `Conv2D` with its Winograd kernels
//       transformed once (F(4×4, 3×3), Lavin & Gray 2016: 36 multiplications per 16 outputs
//       instead of 144), the maps copied to its channel-major layout and back.
//    d. The same Conv with pads of 1 also gets its kernels transformed for CKernels' NCHW
//       Winograd (`ONNXKernels+Winograd`), which runs it in place of 1c where present.
// 2. Folding and Winograd change rounding only: the tests compare the rewritten graph with the
//    plain one on seeded random weights (ONNXFusionTests), and the onnxruntime fixtures keep
//    their 1e-4 bar.

/// An activation applied by the node that produces its input, as it writes its output.
enum ONNXActivation: Sendable, Equatable {
  /// max(x, 0).
  case relu
  /// min(max(x, min), max) (ReLU6 as exported: Clip(0, 6)).
  case clip(min: Float, max: Float)

  /// The activation of one value.
  @inline(__always)
  func callAsFunction(_ x: Float) -> Float {
    switch self {
    case .relu: Swift.max(x, 0)
    case .clip(let low, let high): Swift.min(Swift.max(x, low), high)
    }
  }

  /// The clamp arguments of CKernels' convolutions for `activation`: (0, 0, 0) for none, ReLU as
  /// [0, +∞].
  static func clampArguments(_ activation: ONNXActivation?) -> (
    clamp: Int32, low: Float, high: Float
  ) {
    switch activation {
    case nil: (0, 0, 0)
    case .relu: (1, 0, .infinity)
    case .clip(let low, let high): (1, low, high)
    }
  }
}

/// A Conv prepared when the graph is built: its activation, and the Winograd layer when the
/// convolution is one (note 1c).
struct PreparedConvolution: Sendable, Equatable {
  /// The node's window.
  var window: WindowSettings
  /// The node's `group`.
  var group: Int
  /// The activation fused into the output, if any.
  var activation: ONNXActivation?
  /// The layer that computes it by Winograd, with its kernels transformed.
  var winograd: Conv2D<Float>?
  /// Its kernels transformed for CKernels' NCHW Winograd F(4×4, 3×3), for a 3×3 stride-1 Conv
  /// with padding 1 (`ONNXKernels+Winograd`).
  var winogradKernels: WinogradKernels? = nil
}

extension ONNXGraph {
  /// The steps rewritten as note 1 says; `slots` gains the folded initializers.
  static func fused(_ steps: [Step], slots: inout [ONNXValue?], outputs: [Int]) -> [Step] {
    var steps = steps
    foldBatchNormalization(&steps, slots: &slots, outputs: outputs)
    fuseActivations(&steps, slots: slots, outputs: outputs)
    for k in steps.indices {
      guard case .conv(let window, let group) = steps[k].op else { continue }
      steps[k].op = .convolution(
        prepared(steps[k], window: window, group: group, activation: nil, slots: slots))
    }
    return steps
  }

  /// How many steps read each slot, graph outputs counted as readers.
  private static func readerCounts(_ steps: [Step], slotCount: Int, outputs: [Int]) -> [Int] {
    var counts = [Int](repeating: 0, count: slotCount)
    for step in steps {
      for case let input? in step.inputs { counts[input] += 1 }
    }
    for output in outputs { counts[output] += 1 }
    return counts
  }

  /// The initializer in `slot`, when it is a float tensor.
  private static func constant(_ slot: Int?, _ slots: [ONNXValue?]) -> Tensor<Float>? {
    guard let slot, case .float(let t)? = slots[slot] else { return nil }
    return t
  }

  /// The only step reading `slot` (no graph output), with its position.
  private static func soleReader(of slot: Int, in steps: [Step], after k: Int, counts: [Int])
    -> Int?
  {
    guard counts[slot] == 1 else { return nil }
    return steps[(k + 1)...].firstIndex { $0.inputs.contains(slot) }
  }

  /// Note 1a.
  private static func foldBatchNormalization(
    _ steps: inout [Step], slots: inout [ONNXValue?], outputs: [Int]
  ) {
    var k = 0
    while k < steps.count {
      defer { k += 1 }
      guard case .conv = steps[k].op, steps[k].outputs.count == 1, steps[k].outputs[0] >= 0,
        steps[k].inputs.count >= 2, let w = constant(steps[k].inputs[1], slots), w.rank == 4
      else { continue }
      let m = w.shape[0]
      let bias: Tensor<Float>?
      if steps[k].inputs.count > 2, let slot = steps[k].inputs[2] {
        guard let b = constant(slot, slots), b.count == m else { continue }
        bias = b
      } else {
        bias = nil
      }
      let counts = readerCounts(steps, slotCount: slots.count, outputs: outputs)
      guard let j = soleReader(of: steps[k].outputs[0], in: steps, after: k, counts: counts),
        case .batchNormalization(let epsilon) = steps[j].op,
        steps[j].inputs.count == 5, steps[j].inputs[0] == steps[k].outputs[0],
        steps[j].outputs.count >= 1, steps[j].outputs.dropFirst().allSatisfy({ $0 < 0 })
      else { continue }
      let parameters = steps[j].inputs[1...].map { constant($0, slots) }
      guard parameters.allSatisfy({ $0?.count == m }) else { continue }
      let (gamma, beta, mean, variance) = (
        parameters[0]!.values, parameters[1]!.values, parameters[2]!.values, parameters[3]!.values
      )
      let factor = (0..<m).map {
        Double(gamma[$0]) / (Double(variance[$0]) + Double(epsilon)).squareRoot()
      }
      let perFilter = w.count / m
      var folded = w.values
      for filter in 0..<m {
        for i in (filter * perFilter)..<((filter + 1) * perFilter) {
          folded[i] = Float(Double(folded[i]) * factor[filter])
        }
      }
      var shift = [Float](repeating: 0, count: m)
      for filter in 0..<m {
        let b: Double = bias.map { Double($0.values[filter]) } ?? 0
        let centred: Double = b - Double(mean[filter])
        shift[filter] = Float(centred * factor[filter] + Double(beta[filter]))
      }
      let weightSlot = slots.count
      slots.append(.float(Tensor(shape: w.shape, values: folded)))
      slots.append(.float(Tensor(shape: [m], values: shift)))
      steps[k].inputs = [steps[k].inputs[0], weightSlot, weightSlot + 1]
      steps[k].outputs = [steps[j].outputs[0]]
      steps.remove(at: j)
    }
  }

  /// Note 1b.
  private static func fuseActivations(_ steps: inout [Step], slots: [ONNXValue?], outputs: [Int]) {
    var k = 0
    while k < steps.count {
      defer { k += 1 }
      let fusable: Bool
      switch steps[k].op {
      case .conv, .add: fusable = steps[k].outputs.count == 1 && steps[k].outputs[0] >= 0
      default: fusable = false
      }
      guard fusable else { continue }
      let counts = readerCounts(steps, slotCount: slots.count, outputs: outputs)
      guard let j = soleReader(of: steps[k].outputs[0], in: steps, after: k, counts: counts),
        steps[j].inputs.first == steps[k].outputs[0], steps[j].outputs.count == 1,
        let activation = activation(of: steps[j], slots: slots)
      else { continue }
      switch steps[k].op {
      case .conv(let window, let group):
        steps[k].op = .convolution(
          prepared(steps[k], window: window, group: group, activation: activation, slots: slots))
      default:
        steps[k].op = .addActivation(activation)
      }
      steps[k].outputs = steps[j].outputs
      steps.remove(at: j)
    }
  }

  /// The activation a Relu or a constant-bound Clip step computes, else `nil`.
  private static func activation(of step: Step, slots: [ONNXValue?]) -> ONNXActivation? {
    switch step.op {
    case .relu:
      return step.inputs.count == 1 ? .relu : nil
    case .clip(var low, var high):
      // From opset 11 the bounds are inputs 1 and 2; they must be one-value initializers.
      for (index, input) in step.inputs.enumerated().dropFirst() {
        guard let input else { continue }
        guard let bound = constant(input, slots), bound.count == 1 else { return nil }
        if index == 1 { low = bound.values[0] } else { high = bound.values[0] }
      }
      guard !low.isNaN, !high.isNaN else { return nil }
      return .clip(min: low, max: high)
    default:
      return nil
    }
  }

  /// A Conv step prepared: NCHW Winograd kernels where it qualifies (note 1d), else the
  /// `Conv2D` layer where that qualifies (note 1c): never both, since the first takes
  /// precedence and each holds 4× the weights (36 values per 3×3 kernel).
  static func prepared(
    _ step: Step, window: WindowSettings, group: Int, activation: ONNXActivation?,
    slots: [ONNXValue?]
  ) -> PreparedConvolution {
    let kernels = winogradKernels(step, window: window, group: group, slots: slots)
    return PreparedConvolution(
      window: window, group: group, activation: activation,
      winograd: kernels == nil
        ? winogradLayer(step, window: window, group: group, slots: slots) : nil,
      winogradKernels: kernels)
  }

  /// The NCHW Winograd kernels of a 3×3 stride-1 group-1 Conv with padding 1 and initializer
  /// weights, else `nil`.
  static func winogradKernels(
    _ step: Step, window: WindowSettings, group: Int, slots: [ONNXValue?]
  ) -> WinogradKernels? {
    guard group == 1, step.inputs.count >= 2, let w = constant(step.inputs[1], slots),
      w.rank == 4, w.shape[2] == 3, w.shape[3] == 3,
      window.kernel == nil || window.kernel == [3, 3], window.strides == [1, 1],
      window.dilations == [1, 1], window.autoPad == "NOTSET" || window.autoPad.isEmpty,
      window.pads == [1, 1, 1, 1]
    else { return nil }
    return WinogradKernels(weights: w)
  }

  /// The Winograd layer of a Conv step that qualifies (note 1c), else `nil`.
  static func winogradLayer(_ step: Step, window: WindowSettings, group: Int, slots: [ONNXValue?])
    -> Conv2D<Float>?
  {
    guard group == 1, step.inputs.count >= 2, let w = constant(step.inputs[1], slots),
      w.rank == 4, w.shape[2] == 3, w.shape[3] == 3, w.shape[1] >= 8,
      window.kernel == nil || window.kernel == [3, 3], window.strides == [1, 1],
      window.dilations == [1, 1], window.autoPad == "NOTSET" || window.autoPad.isEmpty,
      let padding = window.pads.first, padding >= 0, padding <= 2,
      window.pads.allSatisfy({ $0 == padding })
    else { return nil }
    var bias: [Float]?
    if step.inputs.count > 2, let slot = step.inputs[2] {
      guard let b = constant(slot, slots), b.count == w.shape[0] else { return nil }
      bias = b.values
    }
    return Conv2D(
      inputChannels: w.shape[1], filters: w.shape[0], kernelHeight: 3, kernelWidth: 3,
      stride: 1, padding: padding, weights: w.values, bias: bias
    ).withTransformedKernels()
  }
}

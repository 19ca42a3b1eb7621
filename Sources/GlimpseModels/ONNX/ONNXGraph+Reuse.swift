// Implementation notes
// 1. The steps after the stem that `SampleReuse` can run on distinct values instead of on every
//    row: a prefix of the run order made of Convs (group 1, initializer weights, any window),
//    MaxPools, Relus and Adds of two such maps, each reading only maps the prefix made. The
//    prefix ends at the first other step (a GlobalAveragePool, a Flatten, a grouped Conv …);
//    `SampleReuse` may end it earlier, where reuse stops paying.
// 2. What each step reads is found from its window (`AxisWindow`), as the kernels compute it:
//    output o of an axis reads inputs o·stride − padBegin + k·dilation, k < kernel, those in
//    range; a MaxPool ignores the padding, a Conv reads it as zeros.

/// A step of the graph prefix that `SampleReuse` runs on distinct values (note 1).
struct ReuseStep {
  /// What the step computes on one position's channel vector.
  enum Kind {
    /// A convolution: the weights laid out `[kh·kw·C, M]` (tap-major, then input channel),
    /// the bias (`M`) and the fused activation; the kernel's size is the step's `axes`'.
    case conv(weights: [Float], bias: [Float]?, activation: ONNXActivation?)
    /// The maximum over the window's in-range positions.
    case maxPool
    /// The sum of two maps of one shape, then the activation.
    case add(ONNXActivation?)
    /// An activation alone.
    case activation(ONNXActivation)
  }

  /// The step's position in the graph's steps.
  var position: Int
  var kind: Kind
  /// The maps read (one, or two for an Add).
  var inputs: [Int]
  /// The map written.
  var output: Int
  /// Output channels, height and width.
  var channels: Int
  var height: Int
  var width: Int
  /// The window along the rows and the columns (`nil` for an Add or an activation).
  var axes: [AxisWindow]?
}

extension ONNXGraph {
  /// The steps after the stem that can run on distinct values (note 1), in run order, for a
  /// stem output of `channels × height × width`.
  func reuseSteps(channels: Int, height: Int, width: Int) -> [ReuseStep] {
    guard let stem else { return [] }
    var shapes: [Int: (channels: Int, height: Int, width: Int)] = [
      stem.output: (channels, height, width)
    ]
    var result: [ReuseStep] = []
    for (position, step) in steps.enumerated() where !stem.replaced.contains(position) {
      guard step.outputs.count == 1, step.outputs[0] >= 0, let data = step.inputs.first ?? nil,
        let shape = shapes[data]
      else { break }
      var reuse: ReuseStep
      switch step.op {
      case .convolution(let prepared):
        guard prepared.group == 1,
          let built = convStep(
            step, position, window: prepared.window, activation: prepared.activation, shape)
        else { return result }
        reuse = built
      case .conv(let window, let group):
        guard group == 1,
          let built = convStep(step, position, window: window, activation: nil, shape)
        else {
          return result
        }
        reuse = built
      case .maxPool(let window):
        guard step.inputs.count == 1, let kernel = window.kernel, kernel.count == 2,
          window.strides.count == 2, window.dilations.count == 2,
          let axes = try? ONNXKernels.windowAxes(
            window, input: [shape.height, shape.width], kernel: kernel)
        else { return result }
        reuse = ReuseStep(
          position: position, kind: .maxPool, inputs: [data],
          output: step.outputs[0], channels: shape.channels, height: axes[0].output,
          width: axes[1].output, axes: axes)
      case .relu:
        guard step.inputs.count == 1 else { return result }
        reuse = ReuseStep(
          position: position, kind: .activation(.relu), inputs: [data], output: step.outputs[0],
          channels: shape.channels, height: shape.height, width: shape.width, axes: nil)
      case .add, .addActivation:
        var activation: ONNXActivation?
        if case .addActivation(let fused) = step.op { activation = fused }
        guard step.inputs.count == 2, let other = step.inputs[1] ?? nil, let second = shapes[other],
          second == shape
        else { return result }
        reuse = ReuseStep(
          position: position, kind: .add(activation), inputs: [data, other],
          output: step.outputs[0], channels: shape.channels, height: shape.height,
          width: shape.width, axes: nil)
      default:
        return result
      }
      shapes[reuse.output] = (reuse.channels, reuse.height, reuse.width)
      result.append(reuse)
    }
    return result
  }

  /// A Conv step on distinct values, when its weights (and bias) are initializers of a 2-D
  /// kernel over the map's channels.
  private func convStep(
    _ step: Step, _ position: Int, window: WindowSettings, activation: ONNXActivation?,
    _ shape: (channels: Int, height: Int, width: Int)
  ) -> ReuseStep? {
    guard step.inputs.count >= 2, step.inputs.count <= 3, let weightSlot = step.inputs[1],
      case .float(let weights)? = initialSlots[weightSlot], weights.rank == 4,
      weights.shape[1] == shape.channels, window.strides.count == 2,
      window.dilations.count == 2
    else { return nil }
    let (m, c, kh, kw) = (weights.shape[0], weights.shape[1], weights.shape[2], weights.shape[3])
    if let kernel = window.kernel, kernel != [kh, kw] { return nil }
    var bias: [Float]?
    if step.inputs.count == 3, let slot = step.inputs[2] {
      guard case .float(let b)? = initialSlots[slot], b.shape == [m] else { return nil }
      bias = b.values
    }
    guard
      let axes = try? ONNXKernels.windowAxes(
        window, input: [shape.height, shape.width], kernel: [kh, kw])
    else { return nil }
    // OIHW → [(ky·kw + kx)·C + ic, oc], so one tap of one position is C consecutive values.
    var laidOut = [Float](repeating: 0, count: kh * kw * c * m)
    weights.values.withUnsafeBufferPointer { w in
      for oc in 0..<m {
        for ic in 0..<c {
          for ky in 0..<kh {
            for kx in 0..<kw {
              laidOut[((ky * kw + kx) * c + ic) * m + oc] = w[((oc * c + ic) * kh + ky) * kw + kx]
            }
          }
        }
      }
    }
    return ReuseStep(
      position: position,
      kind: .conv(weights: laidOut, bias: bias, activation: activation),
      inputs: [step.inputs[0] ?? 0], output: step.outputs[0], channels: m,
      height: axes[0].output, width: axes[1].output, axes: axes)
  }

  /// Runs the graph with `filled` slots given instead of computed: every step but those at
  /// `skipped` (the stem's and the ones that made the filled values).
  /// - Throws: `ONNXError.nodeFailed` as `run(_:)`.
  func run(filled: [Int: ONNXValue], skipping skipped: Set<Int>) throws(ONNXError) -> [ONNXValue] {
    try outputValues(of: execute([], keeping: nil, from: (filled, skipped)))
  }
}

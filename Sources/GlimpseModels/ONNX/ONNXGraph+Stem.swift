// Implementation notes
// 1. The stem is the graph's first convolution when the image input reaches it alone: the input
//    is read by exactly one node (no graph output, no Shape, no second branch), and that node
//    is a Conv (after BatchNormalization folding and activation fusion, `ONNXGraph+Fusion`)
//    reading it as its data input, with initializer weights and bias; or it is a Transpose with
//    perm [0, 3, 1, 2] (an NHWC export's layout change) whose output feeds such a Conv alone.
//    Everything before the Conv's activation is then linear in the image, so
//    `ONNXClassifier`'s masked-batch scoring can compute the Conv's output itself, once per
//    superpixel instead of once per perturbed image (`ONNXClassifier+StemSum`), and run the
//    graph on from there (`run(stemOutput:)`).
// 2. Any other first node (a Pad, a Mul by a constant, a Conv whose weights are computed) or an
//    input read twice leaves `stem` nil, and the classifier runs the whole graph as before.

/// The first convolution of a graph whose image input feeds it alone (note 1).
struct ONNXStem: Sendable {
  /// OIHW weights, BatchNormalization folded in.
  var weights: Tensor<Float>
  /// One value per output channel, or none.
  var bias: Tensor<Float>?
  /// The Conv's window.
  var window: WindowSettings
  /// The Conv's `group`.
  var group: Int
  /// The activation fused into the Conv's output, applied after the sum.
  var activation: ONNXActivation?
  /// Whether an NHWC → NCHW Transpose runs between the input and the Conv.
  var transposed: Bool
  /// The positions in `steps` the stem replaces (the Transpose and the Conv).
  var replaced: [Int]
  /// The slot the Conv writes (after its fused activation).
  var output: Int
}

extension ONNXGraph {
  /// The stem of the ordered, rewritten steps, or `nil` (notes 1 and 2).
  static func stem(
    _ steps: [Step], slots: [ONNXValue?], inputs: [Int], outputs: [Int]
  ) -> ONNXStem? {
    guard inputs.count == 1 else { return nil }
    // Each slot's readers, one entry per read (a node reading it twice counts twice).
    func readers(of slot: Int) -> [Int]? {
      guard !outputs.contains(slot) else { return nil }
      var found: [Int] = []
      for (position, step) in steps.enumerated() {
        for input in step.inputs where input == slot { found.append(position) }
      }
      return found
    }
    guard let first = readers(of: inputs[0]), first.count == 1 else { return nil }
    var position = first[0]
    var data = inputs[0]
    var replaced: [Int] = []
    var transposed = false
    if case .transpose(let perm) = steps[position].op {
      guard perm == [0, 3, 1, 2], steps[position].inputs.count == 1,
        steps[position].outputs.count == 1, steps[position].outputs[0] >= 0,
        let next = readers(of: steps[position].outputs[0]), next.count == 1
      else { return nil }
      replaced.append(position)
      data = steps[position].outputs[0]
      position = next[0]
      transposed = true
    }
    let step = steps[position]
    let window: WindowSettings
    let group: Int
    let activation: ONNXActivation?
    switch step.op {
    case .conv(let w, let g): (window, group, activation) = (w, g, nil)
    case .convolution(let prepared):
      (window, group, activation) = (prepared.window, prepared.group, prepared.activation)
    default: return nil
    }
    guard step.inputs.count >= 2, step.inputs[0] == data, step.outputs.count == 1,
      step.outputs[0] >= 0, let weightSlot = step.inputs[1],
      case .float(let weights)? = slots[weightSlot], weights.rank == 4
    else { return nil }
    var bias: Tensor<Float>?
    if step.inputs.count > 2, let slot = step.inputs[2] {
      guard case .float(let b)? = slots[slot], b.shape == [weights.shape[0]] else { return nil }
      bias = b
    }
    guard step.inputs.count <= 3 else { return nil }
    replaced.append(position)
    return ONNXStem(
      weights: weights, bias: bias, window: window, group: group, activation: activation,
      transposed: transposed, replaced: replaced, output: step.outputs[0])
  }

  /// Runs the graph from the stem's output (`[N, M, OH, OW]`, activation applied) instead of
  /// the image: every step but those the stem replaces.
  /// - Throws: `ONNXError.nodeFailed` as `run(_:)`.
  func run(stemOutput: Tensor<Float>) throws(ONNXError) -> [ONNXValue] {
    guard let stem else {
      throw .nodeFailed(node: "stem", opType: "Conv", reason: "the graph has no stem")
    }
    return try run(filled: [stem.output: .float(stemOutput)], skipping: Set(stem.replaced))
  }
}

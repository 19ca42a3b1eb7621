// Implementation notes
// 1. Everything that can be checked without data is checked when the graph is built: every
//    operator supported (one error listing all missing op types with their nodes), attributes
//    typed, every input produced by a node, an initializer or a graph input, no value produced
//    twice, no cycle. Shapes are checked when a node runs (`ONNXError.nodeFailed`);
//    `ONNXClassifier` runs the graph once on a blank batch when it is built, so a model that
//    loads also runs.
// 2. Nodes run in a topological order computed here (Kahn's algorithm, ties in file order),
//    not trusted from the file. Values live in numbered slots; a slot is emptied after its last
//    reader runs, so a deep network holds a few maps at a time, not all of them.
// 3. Float32 throughout, as onnxruntime's CPU provider runs float models; int64 tensors carry
//    shapes and indices.

/// An ONNX graph checked and ordered for running: Glimpse's interpreter of imported models.
///
/// ```swift
/// let graph = try ONNXGraph(decoding: bytes)
/// let logits = try graph.run([.float(Tensor(shape: [8, 3, 224, 224], values: pixels))])
/// ```
public struct ONNXGraph: Sendable {
  /// The model as read from the file.
  public let model: ONNX.Model
  /// The default-domain opset the operators follow.
  public let opset: Int
  /// The graph inputs the caller provides (those not initialized by the file), in file order.
  public let inputs: [ONNX.ValueInfo]
  /// The graph outputs, in file order.
  public let outputs: [ONNX.ValueInfo]
  /// The op type of each node, in run order.
  public let opTypes: [String]

  let steps: [Step]
  /// Initial slot contents: the initializers; everything else `nil`.
  let initialSlots: [ONNXValue?]
  let inputSlots: [Int]
  let outputSlots: [Int]
  /// The first convolution when the image input feeds it alone (`ONNXGraph+Stem`).
  let stem: ONNXStem?

  /// A node ready to run: its operator and the slots it reads and writes.
  struct Step: Sendable {
    var name: String
    var opType: String
    var op: ONNXOperator
    /// `nil` for an omitted optional input (an empty name).
    var inputs: [Int?]
    var outputs: [Int]
    /// Slots no later step reads (and no graph output): emptied after this step.
    var releases: [Int]
  }

  /// The oldest and newest default-domain opsets Glimpse reads.
  public static let supportedOpsets = 7...23

  /// Reads and checks an ONNX file's bytes (`ONNX.Model(decoding:)`, then `init(model:)`).
  public init(decoding bytes: [UInt8]) throws(ONNXError) {
    try self.init(model: try ONNX.Model(decoding: bytes))
  }

  /// Checks a model's graph and orders its nodes.
  /// - Throws: `ONNXError.unsupportedOperators` listing every op type Glimpse lacks with the
  ///   nodes that use it; `.invalidModel` for an unusable opset, initializer or attribute;
  ///   `.invalidGraph` for a cycle, a missing input or a value produced twice.
  /// - Parameter optimizing: whether to fold, fuse and prepare convolutions
  ///   (`fused(_:slots:outputs:)`); `false` runs every node as the file has it (tests compare).
  public init(model: ONNX.Model, optimizing: Bool = true) throws(ONNXError) {
    _ = Self.allocatorTuned
    self.model = model
    let graph = model.graph
    guard let opset = model.defaultOpsetVersion else {
      throw .invalidModel("the model imports no default-domain operator set (opset_import)")
    }
    guard Self.supportedOpsets.contains(opset) else {
      throw .invalidModel(
        "opset \(opset) is outside the \(Self.supportedOpsets.lowerBound)–\(Self.supportedOpsets.upperBound) Glimpse reads"
      )
    }
    guard !graph.hasSparseInitializers else {
      throw .invalidModel("the graph has sparse initializers, which Glimpse does not read")
    }
    self.opset = opset

    // Slots: one per value name.
    var slotOf: [String: Int] = [:]
    func slot(_ name: String) -> Int {
      if let slot = slotOf[name] { return slot }
      let slot = slotOf.count
      slotOf[name] = slot
      return slot
    }
    var initial: [Int: ONNXValue] = [:]
    for tensor in graph.initializers {
      guard !tensor.name.isEmpty else { throw .invalidModel("an initializer has no name") }
      guard initial[slot(tensor.name)] == nil else {
        throw .invalidGraph("initializer \(tensor.quotedName) is given twice")
      }
      initial[slot(tensor.name)] = try tensor.value()
    }
    let initialized = Set(graph.initializers.map(\.name))
    // In IR < 4 the initializers are listed among the inputs too; those are not the caller's.
    let inputs = graph.inputs.filter { !initialized.contains($0.name) }
    self.inputs = inputs
    self.outputs = graph.outputs
    var available = initialized
    for input in inputs {
      guard !input.name.isEmpty, available.insert(input.name).inserted else {
        throw .invalidGraph("graph input '\(input.name)' is empty or given twice")
      }
      _ = slot(input.name)
    }

    // Operators, all refusals collected.
    var operators: [ONNXOperator] = []
    var unsupported: [(type: String, nodes: [String])] = []
    var invalid: [String] = []
    let names = graph.nodes.enumerated().map { index, node in
      node.name.isEmpty ? "#\(index)" : node.name
    }
    for (index, node) in graph.nodes.enumerated() {
      do {
        operators.append(try ONNXOperator(node: node, opset: opset))
      } catch {
        switch error {
        case .unsupported(let type):
          if let k = unsupported.firstIndex(where: { $0.type == type }) {
            unsupported[k].nodes.append(names[index])
          } else {
            unsupported.append((type, [names[index]]))
          }
        case .invalid(let reason):
          invalid.append("node '\(names[index])' (\(node.opType)): \(reason)")
        }
        operators.append(.identity)
      }
    }
    guard unsupported.isEmpty else {
      throw .unsupportedOperators(unsupported.map { .init(opType: $0.type, nodes: $0.nodes) })
    }
    if let first = invalid.first { throw .invalidModel(first) }

    // Topological order (Kahn), ties in file order.
    var producer: [String: Int] = [:]
    for (index, node) in graph.nodes.enumerated() {
      for output in node.outputs where !output.isEmpty {
        guard producer[output] == nil, !available.contains(output) else {
          throw .invalidGraph("value '\(output)' is produced twice (node '\(names[index])')")
        }
        producer[output] = index
      }
    }
    var waiting = [Int](repeating: 0, count: graph.nodes.count)
    var readers: [String: [Int]] = [:]
    for (index, node) in graph.nodes.enumerated() {
      for input in Set(node.inputs) where !input.isEmpty && !available.contains(input) {
        guard producer[input] != nil else {
          throw .invalidGraph(
            "node '\(names[index])' (\(node.opType)) reads '\(input)', which no node, initializer or graph input provides"
          )
        }
        waiting[index] += 1
        readers[input, default: []].append(index)
      }
    }
    var ready = (0..<graph.nodes.count).filter { waiting[$0] == 0 }
    var order: [Int] = []
    var head = 0
    while head < ready.count {
      let index = ready[head]
      head += 1
      order.append(index)
      for output in graph.nodes[index].outputs where !output.isEmpty {
        for reader in readers[output] ?? [] {
          waiting[reader] -= 1
          if waiting[reader] == 0 { ready.append(reader) }
        }
      }
    }
    guard order.count == graph.nodes.count else {
      // The nodes left wait on a cycle; those that only read from it (feed no other node
      // left) are dropped until the cycle's own nodes remain, so the message names the loop.
      var left = Set((0..<graph.nodes.count).filter { waiting[$0] > 0 })
      while true {
        let feeding = left.filter { index in
          graph.nodes[index].outputs.contains { output in
            (readers[output] ?? []).contains { left.contains($0) }
          }
        }
        if feeding.count == left.count || feeding.isEmpty { break }
        left = feeding
      }
      let stuck = left.sorted().map { "'\(names[$0])'" }
      throw .invalidGraph(
        "the nodes \(stuck.prefix(5).joined(separator: ", "))\(stuck.count > 5 ? ", …" : "") form a cycle"
      )
    }
    for output in graph.outputs {
      guard available.contains(output.name) || producer[output.name] != nil else {
        throw .invalidGraph("graph output '\(output.name)' is not produced by any node")
      }
    }

    // Steps, with the slots each one empties.
    var steps: [Step] = order.map { index in
      let node = graph.nodes[index]
      return Step(
        name: names[index], opType: node.opType, op: operators[index],
        inputs: node.inputs.map { $0.isEmpty ? nil : slot($0) },
        outputs: node.outputs.map { $0.isEmpty ? -1 : slot($0) }, releases: [])
    }
    // Integers computed from the image data (a Cast of data to an integer type) could reach
    // Gather's indices or Reshape's shape, and make a node fail on some images only; every
    // other integer derives from shapes (Shape) and constants, which the classifier's trial
    // run fixes. So such a Cast is refused, and a graph that ran once runs on any image.
    var fromData = Set(inputs.map { slot($0.name) })
    var castNodes: [String] = []
    for step in steps {
      let readsData = step.inputs.contains { $0.map(fromData.contains) ?? false }
      guard readsData else { continue }
      if case .shape = step.op { continue }
      if step.op == .cast(toFloat: false) { castNodes.append(step.name) }
      for output in step.outputs where output >= 0 { fromData.insert(output) }
    }
    guard castNodes.isEmpty else {
      throw .unsupportedOperators([.init(opType: "Cast (image data to integers)", nodes: castNodes)]
      )
    }
    let outputSlots = graph.outputs.map { slot($0.name) }
    var slots = [ONNXValue?](repeating: nil, count: slotOf.count)
    for (slot, value) in initial { slots[slot] = value }
    self.opTypes = steps.map(\.opType)
    if optimizing { steps = Self.fused(steps, slots: &slots, outputs: outputSlots) }
    var lastReader: [Int: Int] = [:]
    for (position, step) in steps.enumerated() {
      for case let input? in step.inputs { lastReader[input] = position }
    }
    for output in outputSlots { lastReader[output] = nil }
    for (slot, position) in lastReader { steps[position].releases.append(slot) }
    self.steps = steps
    self.initialSlots = slots
    self.inputSlots = inputs.map { slot($0.name) }
    self.outputSlots = outputSlots
    self.stem = Self.stem(steps, slots: slots, inputs: inputSlots, outputs: outputSlots)
  }

  /// How many nodes of each op type the graph has.
  public var operatorCounts: [String: Int] {
    opTypes.reduce(into: [:]) { $0[$1, default: 0] += 1 }
  }

  /// The op type of the node that produces the first graph output, looking through Identity
  /// and Dropout nodes (`Softmax` when the graph returns probabilities).
  public var finalOpType: String? {
    guard let output = outputSlots.first else { return nil }
    var target = output
    for step in steps.reversed() where step.outputs.contains(target) {
      if step.op == .identity, let input = step.inputs.first ?? nil {
        target = input
        continue
      }
      return step.opType
    }
    return nil
  }

  /// Runs the graph.
  /// - Parameter inputs: One value per entry of `inputs`, in that order.
  /// - Returns: One value per entry of `outputs`, in that order.
  /// - Throws: `ONNXError.inputMismatch` when an input's type, rank or a fixed size differs from
  ///   the graph's declaration; `.nodeFailed` when a node's inputs do not fit it.
  public func run(_ inputs: [ONNXValue]) throws(ONNXError) -> [ONNXValue] {
    try outputValues(of: execute(inputs, keeping: nil))
  }

  /// The graph outputs' values, in `outputs` order, from a run's slots.
  func outputValues(of slots: [ONNXValue?]) throws(ONNXError) -> [ONNXValue] {
    var results: [ONNXValue] = []
    for (slot, info) in zip(outputSlots, outputs) {
      guard let value = slots[slot] else {
        throw .nodeFailed(
          node: info.name, opType: "output", reason: "the graph output has no value")
      }
      results.append(value)
    }
    return results
  }

  /// Runs the graph and returns the value of one inner slot (kept past its last reader), as
  /// `run(_:)` computes it.
  func run(_ inputs: [ONNXValue], keeping kept: Int) throws(ONNXError) -> ONNXValue {
    guard let value = try execute(inputs, keeping: kept)[kept] else {
      throw .nodeFailed(node: "#\(kept)", opType: "value", reason: "the value was not computed")
    }
    return value
  }

  /// Runs every step; returns the slots (graph outputs and `kept` filled, the rest released).
  /// With `start`, the graph runs from inner values instead of its inputs (`inputs` empty): the
  /// `filled` slots are given and the steps at `skipped` (those that would compute them) do not
  /// run.
  func execute(
    _ inputs: [ONNXValue], keeping kept: Int?,
    from start: (filled: [Int: ONNXValue], skipped: Set<Int>)? = nil
  ) throws(ONNXError) -> [ONNXValue?] {
    var slots = initialSlots
    if let start {
      for (slot, value) in start.filled { slots[slot] = value }
    } else {
      guard inputs.count == self.inputs.count else {
        throw .inputMismatch("the graph takes \(self.inputs.count) inputs, \(inputs.count) given")
      }
      for (k, (value, info)) in zip(inputs, self.inputs).enumerated() {
        try Self.check(value, against: info)
        slots[inputSlots[k]] = value
      }
    }
    for (position, step) in steps.enumerated() {
      if let start, start.skipped.contains(position) { continue }
      var arguments: [ONNXValue?] = []
      arguments.reserveCapacity(step.inputs.count)
      for input in step.inputs {
        guard let input else {
          arguments.append(nil)
          continue
        }
        guard let value = slots[input] else {
          throw .nodeFailed(node: step.name, opType: step.opType, reason: "an input has no value")
        }
        arguments.append(value)
      }
      for slot in step.releases where slot != kept { slots[slot] = nil }
      let results: [ONNXValue]
      do {
        results = try ONNXKernels.run(step.op, arguments, opset: opset)
      } catch {
        throw .nodeFailed(node: step.name, opType: step.opType, reason: error.reason)
      }
      for (slot, value) in zip(step.outputs, results) where slot >= 0 { slots[slot] = value }
    }
    return slots
  }

  /// Runs the graph on named inputs and returns its outputs by name.
  public func run(_ inputs: [String: ONNXValue]) throws(ONNXError) -> [String: ONNXValue] {
    var ordered: [ONNXValue] = []
    for info in self.inputs {
      guard let value = inputs[info.name] else {
        throw .inputMismatch("input '\(info.name)' is missing")
      }
      ordered.append(value)
    }
    let results = try run(ordered)
    return Dictionary(zip(outputs.map(\.name), results), uniquingKeysWith: { first, _ in first })
  }

  /// Refuses a value whose type, rank or fixed sizes differ from `info`'s.
  static func check(_ value: ONNXValue, against info: ONNX.ValueInfo) throws(ONNXError) {
    let isFloat = if case .float = value { true } else { false }
    if info.elementType != 0 {
      let wantsFloat =
        info.elementType == ONNX.DataType.float.rawValue
        || info.elementType == ONNX.DataType.double.rawValue
      guard wantsFloat == isFloat else {
        throw .inputMismatch(
          "input '\(info.name)' is \(ONNX.TensorProto.typeName(info.elementType)), given \(value.typeName)"
        )
      }
    }
    guard let declared = info.shape else { return }
    let shape = value.shape
    guard declared.count == shape.count else {
      throw .inputMismatch("input '\(info.name)' has rank \(declared.count), given shape \(shape)")
    }
    for (axis, (dim, size)) in zip(declared, shape).enumerated() {
      if case .value(let fixed) = dim, fixed > 0, fixed != Int64(size) {
        throw .inputMismatch(
          "input '\(info.name)' has size \(fixed) on axis \(axis), given shape \(shape)")
      }
    }
  }
}

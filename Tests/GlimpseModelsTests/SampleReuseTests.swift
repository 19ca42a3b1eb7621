import GlimpseCore
import Testing

@testable import GlimpseModels

/// `SampleReuse` (LIME's first maps computed once per position and class of rows) against the
/// stem sum's dense scoring of the same masked batch and against brute-force counting, on
/// seeded ResNet-shaped graphs.
@Suite("Sample reuse: the first maps once per receptive-field pattern")
struct SampleReuseTests {
  typealias F = ONNXFusionTests

  /// Conv (5×5/2, pad 2) + Relu → MaxPool 3×3/2 pad 1 → a basic block (3×3 + Relu, 3×3, Add
  /// of the block's input, Relu) → a strided block (3×3/2 + Relu, 3×3, a 1×1/2 shortcut, Add,
  /// Relu) → GlobalAveragePool → Flatten → Gemm (5 logits). `width` channels in the first
  /// stage, `2·width` in the second; Clip(0, 6) instead of Relu when `clip`.
  static func model(width: Int, clip: Bool = false, seed: UInt64) -> ONNX.Model {
    var rng = SeededGenerator(seed: seed)
    var model = F.emptyModel()
    let (a, b) = (width, 2 * width)
    var low = ONNX.TensorProto()
    (low.name, low.dataType, low.floatData) = ("low", ONNX.DataType.float.rawValue, [0])
    var high = low
    (high.name, high.floatData) = ("high", [6])
    model.graph.initializers = [
      F.weights("w0", [a, 3, 5, 5], scale: 0.3, using: &rng),
      F.weights("b0", [a], scale: 0.2, using: &rng),
      F.weights("w1", [a, a, 3, 3], scale: 0.3, using: &rng),
      F.weights("b1", [a], scale: 0.2, using: &rng),
      F.weights("w2", [a, a, 3, 3], scale: 0.3, using: &rng),
      F.weights("b2", [a], scale: 0.2, using: &rng),
      F.weights("w3", [b, a, 3, 3], scale: 0.3, using: &rng),
      F.weights("b3", [b], scale: 0.2, using: &rng),
      F.weights("w4", [b, b, 3, 3], scale: 0.3, using: &rng),
      F.weights("b4", [b], scale: 0.2, using: &rng),
      F.weights("ws", [b, a, 1, 1], scale: 0.3, using: &rng),
      F.weights("fc", [b, 5], scale: 0.5, using: &rng),
      F.weights("fcb", [5], scale: 0.1, using: &rng),
      low, high,
    ]
    func conv(_ x: String, _ w: String, _ bias: String, _ out: String, kernel: Int, stride: Int)
      -> ONNX.Node
    {
      let pad = Int64(kernel / 2)
      return F.node(
        "Conv", bias.isEmpty ? [x, w] : [x, w, bias], out,
        [
          F.ints("kernel_shape", [Int64(kernel), Int64(kernel)]),
          F.ints("strides", [Int64(stride), Int64(stride)]), F.ints("pads", [pad, pad, pad, pad]),
        ])
    }
    func activation(_ x: String, _ out: String) -> ONNX.Node {
      clip ? F.node("Clip", [x, "low", "high"], out) : F.node("Relu", [x], out)
    }
    model.graph.nodes = [
      conv("x", "w0", "b0", "c0", kernel: 5, stride: 2), activation("c0", "a0"),
      F.node(
        "MaxPool", ["a0"], "p0",
        [
          F.ints("kernel_shape", [3, 3]), F.ints("strides", [2, 2]), F.ints("pads", [1, 1, 1, 1]),
        ]),
      conv("p0", "w1", "b1", "c1", kernel: 3, stride: 1), activation("c1", "a1"),
      conv("a1", "w2", "b2", "c2", kernel: 3, stride: 1),
      F.node("Add", ["c2", "p0"], "s1"), activation("s1", "r1"),
      conv("r1", "w3", "b3", "c3", kernel: 3, stride: 2), activation("c3", "a3"),
      conv("a3", "w4", "b4", "c4", kernel: 3, stride: 1),
      conv("r1", "ws", "", "cs", kernel: 1, stride: 2),
      F.node("Add", ["c4", "cs"], "s2"), activation("s2", "r2"),
      F.node("GlobalAveragePool", ["r2"], "g"), F.node("Flatten", ["g"], "f"),
      F.node("Gemm", ["f", "fc", "fcb"], "y"),
    ]
    return model
  }

  static func classifier(_ model: ONNX.Model, height: Int, width: Int) throws -> ONNXClassifier {
    let settings = ONNXClassifier.Hyperparameters(
      layout: .nchw, height: height, width: width, channels: 3, scale: 1,
      mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], bgr: false, output: .logits)
    return try ONNXClassifier(
      bytes: [], graph: try ONNXGraph(model: model), hyperparameters: settings, classNames: nil,
      fixedBatch: 4)
  }

  /// A masked batch of blocky segments (cells of `cell` pixels) over `groupCount` groups, with
  /// 0/1 coefficients (LIME's), the first row all ones; `rows` rows.
  static func batch(
    height: Int, width: Int, groupCount: Int, cell: Int, rows: Int, seed: UInt64
  ) -> MaskedBatch {
    var rng = SeededGenerator(seed: seed)
    let columns = (width + cell - 1) / cell
    let cells = (0..<((height + cell - 1) / cell * columns)).map { _ in
      Int32(rng.next() % UInt64(groupCount))
    }
    let count = height * width * 3
    let groups = (0..<count).map { p -> Int32 in
      let pixel = p / 3
      return cells[(pixel / width) / cell * columns + (pixel % width) / cell]
    }
    let image = (0..<count).map { _ in rng.nextUnitDouble() }
    let base = (0..<count).map { _ in rng.nextUnitDouble() * 0.5 }
    var coefficients = Matrix(rows: rows, columns: groupCount) { _, _ in
      Double(rng.next() % 2)
    }
    for g in 0..<groupCount { coefficients[0, g] = 1 }
    return MaskedBatch(
      base: base, delta: zip(image, base).map { $0 - $1 }, groups: groups,
      groupCount: groupCount, coefficients: coefficients)
  }

  /// A 40×36 classifier of `model`, a masked batch over it, its stem and its stem sum.
  static func setup(
    _ model: ONNX.Model, groupCount: Int, cell: Int, rows: Int, seed: UInt64
  ) throws -> (ONNXClassifier, MaskedBatch, ONNXStem, StemSum) {
    let (h, w) = (40, 36)
    let classifier = try Self.classifier(model, height: h, width: w)
    let batch = Self.batch(
      height: h, width: w, groupCount: groupCount, cell: cell, rows: rows, seed: seed)
    let stem = try #require(classifier.graph.stem)
    let sum = try #require(
      try StemSum(stem: stem, settings: classifier.hyperparameters, batch: batch, always: true))
    return (classifier, batch, stem, sum)
  }

  static func maxDifference<A: Collection<Double>, B: Collection<Double>>(_ a: A, _ b: B) -> Double
  {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  @Test(
    "scores from the reused maps equal the stem sum's dense scores within 1e-5 (8, 12 and 16 channels, Relu and Clip; the prefix through both blocks, or ending after the third step)",
    arguments: [(8, false), (12, true), (16, false)])
  func scoresMatchDense(width: Int, clip: Bool) throws {
    let (classifier, batch, _, sum) = try Self.setup(
      Self.model(width: width, clip: clip, seed: UInt64(width)), groupCount: 9, cell: 8,
      rows: 37, seed: 3)
    let full = try #require(
      SampleReuse(graph: classifier.graph, sum: sum, batch: batch, maximumShare: 1))
    // Every step from the max-pool to the second block's Add (the Relus fused): 8 of them, and
    // the one map the pooling reads.
    #expect(full.shares.count == 8)
    #expect(full.exits.count == 1)
    // Fewer items than rows × positions where the receptive fields are small.
    #expect(full.shares[0] < 0.9)
    let cut = full.shares[2]
    let partial = try #require(
      SampleReuse(graph: classifier.graph, sum: sum, batch: batch, maximumShare: cut))
    #expect(partial.shares.count >= 3 && partial.shares.allSatisfy { $0 <= cut })
    let dense = classifier.scored(batch, stem: sum)
    for reuse in [full, partial] {
      let reused = classifier.scored(batch, reuse: reuse)
      let difference = Self.maxDifference(reused.storage, dense.storage)
      #expect(difference <= 1e-5, "width \(width), \(reuse.shares.count) steps: \(difference)")
    }
    // The rows differ from each other: the coefficients reached the scores.
    let spread = (1..<batch.rows).map { Self.maxDifference(dense.row(0), dense.row($0)) }.max()
    #expect((spread ?? 0) > 1e-4)
  }

  @Test(
    "a masked batch over the row limit is scored in parts (16, 16 and 5 rows) whose scores equal the dense ones within 1e-5"
  )
  func largeBatchesGoInParts() throws {
    let (classifier, batch, _, sum) = try Self.setup(
      Self.model(width: 8, seed: 6), groupCount: 9, cell: 8, rows: 37, seed: 8)
    let parts = classifier.scoredReusing(batch, stem: sum, maximumRows: 16)
    let whole = classifier.scored(batch, stem: sum)
    #expect(parts.rows == 37 && parts.columns == whole.columns)
    #expect(Self.maxDifference(parts.storage, whole.storage) <= 1e-5)
    // Each part's rows land in their place: the last part's first row is row 32's.
    #expect(Self.maxDifference(parts.row(32), whole.row(32)) <= 1e-5)
    #expect(Self.maxDifference(parts.row(32), whole.row(31)) > 1e-6)
  }

  @Test(
    "each exit map, written out for a batch of rows, equals the dense graph's map there within 1e-5 relative"
  )
  func exitMapsMatchDense() throws {
    let (classifier, batch, stem, sum) = try Self.setup(
      Self.model(width: 8, seed: 5), groupCount: 6, cell: 10, rows: 21, seed: 9)
    let full = try #require(
      SampleReuse(graph: classifier.graph, sum: sum, batch: batch, maximumShare: 1))
    for share in [1.0, full.shares[1]] {
      let reuse = try #require(
        SampleReuse(graph: classifier.graph, sum: sum, batch: batch, maximumShare: share))
      let (start, count, size) = (17, 4, 4)
      var rows = [Float](repeating: 0, count: size * sum.rowCount)
      batch.coefficients.storage.withUnsafeBufferPointer { c in
        rows.withUnsafeMutableBufferPointer { out in
          for n in 0..<size {
            sum.write(
              c.baseAddress! + (start + n) * batch.groupCount,
              into: out.baseAddress! + n * sum.rowCount)
          }
        }
      }
      let stemOutput = Tensor(shape: [size, sum.channels, sum.height, sum.width], values: rows)
      for exit in reuse.exits {
        let slots = try classifier.graph.execute(
          [], keeping: exit.slot,
          from: (filled: [stem.output: .float(stemOutput)], skipped: Set(stem.replaced)))
        guard case .float(let reference)? = slots[exit.slot] else {
          Issue.record("the exit slot has no float value")
          continue
        }
        let written = SampleReuse.tensor(exit.map, start: start, count: count, size: size)
        #expect(written.shape == reference.shape)
        let scale = Double(reference.values.map { abs($0) }.max() ?? 1)
        let difference = Self.maxDifference(
          written.values.map(Double.init), reference.values.map(Double.init))
        #expect(difference <= 1e-5 * max(scale, 1), "share \(share): \(difference)")
      }
    }
  }

  @Test(
    "a position's items are the distinct 0/1 patterns of the rows on its groups (brute force), every row its own class beyond 16 groups"
  )
  func classesAreDistinctPatterns() {
    var rng = SeededGenerator(seed: 13)
    let (rows, groupCount) = (50, 20)
    let coefficients = Matrix(rows: rows, columns: groupCount) { _, _ in Double(rng.next() % 2) }
    let batch = MaskedBatch(
      base: [0], delta: [0], groups: [0], groupCount: groupCount, coefficients: coefficients)
    var finder = ClassFinder(batch: batch)
    // Six positions: no group, one, three, three again, all twenty, sixteen.
    let sets: [[Int]] = [[], [4], [1, 7, 19], [1, 7, 19], Array(0..<20), Array(2..<18)]
    var bits = [UInt64](repeating: 0, count: sets.count)
    for (p, set) in sets.enumerated() {
      for g in set { bits[p] |= 1 << UInt64(g) }
    }
    let map = finder.map(bits: bits, words: 1, channels: 1, height: 1, width: sets.count)
    #expect(map.setCount == 5)
    var total = 0
    for (p, set) in sets.enumerated() {
      let patterns = Set((0..<rows).map { r in set.map { coefficients[r, $0] } })
      let items = Set((0..<rows).map { map.item(row: $0, position: p) })
      let expected = set.count > ClassFinder.maximumGroups ? rows : patterns.count
      #expect(items.count == expected, "position \(p)")
      total += expected
      // Rows share an item exactly when their patterns agree (or, beyond 16 groups, never).
      for r in 0..<rows {
        for q in 0..<r {
          let same = map.item(row: r, position: p) == map.item(row: q, position: p)
          let agree = set.allSatisfy { coefficients[r, $0] == coefficients[q, $0] }
          #expect(same == (agree && set.count <= ClassFinder.maximumGroups))
        }
      }
      // Each item's owner is a row that maps to it, at its position.
      for r in 0..<rows {
        let item = map.item(row: r, position: p)
        #expect(Int(map.itemPosition[item]) == p)
        #expect(map.item(row: Int(map.itemOwner[item]), position: p) == item)
      }
    }
    #expect(map.itemCount == total)
  }

  @Test(
    "no reuse for coefficients other than 0 and 1, or a single row; predictProbabilities takes it for LIME's masks and matches the materialised rows within 1e-5"
  )
  func appliesToLIMEMasksOnly() throws {
    let (h, w) = (40, 36)
    let (classifier, masked, stem, sum) = try Self.setup(
      Self.model(width: 8, seed: 2), groupCount: 7, cell: 9, rows: 300, seed: 4)
    var batch = masked
    #expect(classifier.sampleReuse(batch, sum: sum) != nil)
    let p = classifier.predictProbabilities(batch)
    let reference = classifier.predictProbabilities(batch.materialized())
    #expect(Self.maxDifference(p.storage, reference.storage) <= 1e-5)

    batch.coefficients[3, 2] = 0.5
    #expect(SampleReuse(graph: classifier.graph, sum: sum, batch: batch) == nil)
    let one = Self.batch(height: h, width: w, groupCount: 7, cell: 9, rows: 1, seed: 4)
    let oneSum = try #require(
      try StemSum(stem: stem, settings: classifier.hyperparameters, batch: one, always: true))
    #expect(SampleReuse(graph: classifier.graph, sum: oneSum, batch: one) == nil)
  }
}

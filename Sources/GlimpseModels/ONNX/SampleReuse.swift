import GlimpseCore

// Implementation notes
// 1. LIME's perturbed images differ only in which superpixels are hidden, and an early map's
//    value at a position depends only on the pixels its receptive field covers. Row r's value of
//    map s at position p is therefore a function of r's coefficients on the groups G_s(p) whose
//    pixels reach p: for the stem, the groups whose box (`StemSum`) holds p; for a later step,
//    the union of its inputs' sets over the positions its window reads (`ONNXGraph+Reuse`).
//    Rows with equal coefficients on G_s(p) have equal values there, so each map is computed
//    once per position and *class* of rows (an item), not once per position and row. With
//    LIME's 0/1 coefficients and 1000 samples, measured on the benchmark's six segmenters
//    through the width-16 ResNet-18: items are 0.3–3 % of rows × positions after the max-pool,
//    1–30 % in the first stage, 10–60 % in the second.
// 2. An item is computed from its class's first row (its owner): that row's items of the input
//    maps at the positions the window reads. Rows of one class at (s, p) are in one class at
//    every input position read, because G_s(p) contains those positions' sets; so the item is
//    the value for every row of the class. Classes are found per distinct set: the rows' bits on
//    the set's groups, looked up in a table of 2^k entries (k ≤ 16); above 16 groups every row
//    is its own class (1000 rows over 2^17 patterns leave almost no equal pair).
// 3. Items are channel vectors. A Conv is CKernels' indirect convolution over pointers to its
//    input's items (`SampleReuse+Steps`); a MaxPool, an Add and an activation work item by
//    item. Each is spread over the model's threads.
// 4. The maps the rest of the graph reads (exits) are written out per graph batch in NCHW from
//    their items, and the graph runs on from them (`ONNXGraph.run(filled:skipping:)`).
// 5. The prefix ends at the first step whose items would exceed `maximumItemShare` of its rows
//    × positions (from there on the dense graph is as fast) or `maximumItemValues` values.
//    Batches of more than `maximumRows` rows are scored in parts, each with its own reuse.
// 6. Items are stored grouped by owner row, each row's in position order: where most rows own
//    their items (the later steps), a row's items then lie together as an image's map would, and
//    the windows of consecutive items read neighbouring items instead of items 1000 rows apart
//    (position-major order made the convolutions memory-bound).
// 7. A Conv without activation read only by the Add after it (a residual block's second
//    convolution) is computed with the Add: the other summand and the Add's activation are
//    applied to each chunk of the Conv's items as it leaves the kernel, when the two maps have
//    the same group sets (they do in a ResNet: the Conv's window holds the shortcut's), so one
//    pass over the items is saved. The arithmetic is the Add's.

/// The distinct values of the first maps of a graph over the rows of one masked batch (note 1).
struct SampleReuse: Sendable {
  /// One map's items and how rows find them.
  struct ItemMap {
    var channels: Int
    var height: Int
    var width: Int
    /// Per position: the index of its group set.
    var setIndex: [Int32]
    /// Per position: where its classes' items start in `itemOf`.
    var firstItem: [Int]
    /// The item of each position's classes, in position order (note 6).
    var itemOf: [Int32]
    /// The number of distinct sets.
    var setCount: Int
    /// Each row's class in each set, `[rows, sets]` (row-major: a row's lookups along the
    /// positions stay in one stretch of memory).
    var classes: [Int32]
    /// Per item: its position and its owner row.
    var itemPosition: [Int32]
    var itemOwner: [Int32]
    /// `[items, channels]`.
    var values: [Float]
    /// Every row's item at every position, `[rows, positions]` (`itemTable(rows:)`).
    var table: [Int32] = []
    /// Per set: its groups as a bitset.
    var setBits: [[UInt64]]

    /// The item holding row `row`'s value at `position`.
    @inline(__always)
    func item(row: Int, position: Int) -> Int {
      let set = Int(setIndex[position])
      return Int(itemOf[firstItem[position] + Int(classes[row * setCount + set])])
    }

    var itemCount: Int { itemPosition.count }

    /// Every row's item at every position, `[rows, positions]`, so that a lookup is one load
    /// (`SampleReuse+Steps` note 3).
    func itemTable(rows: Int) -> [Int32] {
      let plane = height * width
      return [Int32](unsafeUninitializedCapacity: rows * plane) { out, initialized in
        if let base = out.baseAddress {
          let target = UncheckedSendable(base)
          SampleReuse.forEachRange(rows, size: 16) { range in
            for row in range {
              for p in 0..<plane {
                target.value[row * plane + p] = Int32(item(row: row, position: p))
              }
            }
          }
        }
        initialized = rows * plane
      }
    }
  }

  /// The largest share of rows × positions a step's items may have for the step to run on
  /// items (note 5); measured on the width-16 ResNet-18: 0.7 while the dense 3×3 convolutions
  /// ran direct or by im2col, 0.3 since they run by NCHW Winograd (twice as fast, so items pay
  /// off only at a lower share).
  static let maximumItemShare = 0.3

  /// The most values one map's items may hold (256 MB of Float32): a wider network's first
  /// maps (64 channels at 56×56 for the full-width ResNet-18) stop the prefix there rather than
  /// hold gigabytes for a thousand rows.
  static let maximumItemValues = 1 << 26

  /// The most rows one `SampleReuse` covers; larger masked batches are scored in parts
  /// (`ONNXClassifier.scoredReusing(_:stem:maximumRows:)`), which bounds its tables.
  static let maximumRows = 1024

  /// The maps the rest of the graph reads, with their items.
  var exits: [(slot: Int, map: ItemMap)]
  /// Graph steps that do not run (the stem's and the prefix's).
  var skipped: Set<Int>
  /// The share of items (of rows × positions) of each prefix step run on items, in order.
  var shares: [Double]

  /// The items of `graph`'s first maps for `batch`, or `nil` when the coefficients are not all
  /// 0 or 1, or when not even the step after the stem would pay (note 5).
  init?(graph: ONNXGraph, sum: StemSum, batch: MaskedBatch, maximumShare: Double = maximumItemShare)
  {
    guard let stem = graph.stem, batch.rows > 1,
      batch.coefficients.storage.allSatisfy({ $0 == 0 || $0 == 1 })
    else { return nil }
    let candidates = graph.reuseSteps(
      channels: sum.channels, height: sum.height, width: sum.width)
    guard !candidates.isEmpty else { return nil }
    let rows = batch.rows
    let groupCount = batch.groupCount
    let words = (groupCount + 63) / 64
    var finder = ClassFinder(batch: batch)

    // The stem's sets: the groups whose box holds each position.
    let plane = sum.height * sum.width
    var stemBits = [UInt64](repeating: 0, count: plane * words)
    for (g, box) in sum.boxes.enumerated() {
      guard let box else { continue }
      for y in box.top..<(box.top + box.rows) {
        for x in box.left..<(box.left + box.columns) {
          stemBits[(y * sum.width + x) * words + g / 64] |= 1 << UInt64(g % 64)
        }
      }
    }
    var maps: [Int: ItemMap] = [:]
    var stemMap = finder.map(
      bits: stemBits, words: words, channels: sum.channels, height: sum.height, width: sum.width)
    stemMap.values = Self.stemValues(stemMap, sum: sum, batch: batch)
    maps[stem.output] = stemMap

    var ran: [ReuseStep] = []
    var shares: [Double] = []
    var readers: [Int: Int] = [:]
    for step in graph.steps {
      for case let slot? in step.inputs { readers[slot, default: 0] += 1 }
    }
    // Maps no later prefix step reads and no other step may read are dropped as they go out of
    // use (at 56×56 a map of 40 % of 1000 rows holds 20 M values).
    var lastReader: [Int: Int] = [:]
    for (k, step) in candidates.enumerated() {
      for slot in step.inputs { lastReader[slot] = k }
    }
    let candidatePositions = Set(candidates.map(\.position))
    var kept = Set(graph.outputSlots)
    for (position, step) in graph.steps.enumerated()
    where !candidatePositions.contains(position) && !stem.replaced.contains(position) {
      for case let slot? in step.inputs { kept.insert(slot) }
    }
    func release(after k: Int) {
      for (slot, last) in lastReader where last == k && !kept.contains(slot) {
        maps[slot] = nil
      }
    }
    var k = 0
    while k < candidates.count {
      let step = candidates[k]
      let bits = Self.bits(of: step, maps: maps, words: words)
      var map = finder.map(
        bits: bits, words: words, channels: step.channels, height: step.height,
        width: step.width)
      let share = Double(map.itemCount) / Double(rows * step.height * step.width)
      guard share <= maximumShare, map.itemCount * step.channels <= Self.maximumItemValues
      else { break }
      // Note 7: a Conv whose one reader is the next step, an Add, and whose items the Add's are.
      if case .conv(let weights, let bias, nil) = step.kind, k + 1 < candidates.count,
        case .add(let activation) = candidates[k + 1].kind,
        candidates[k + 1].inputs.contains(step.output), readers[step.output] == 1,
        !graph.outputSlots.contains(step.output), let input = maps[step.inputs[0]]
      {
        let add = candidates[k + 1]
        let other = add.inputs[0] == step.output ? add.inputs[1] : add.inputs[0]
        if other != step.output, let residual = maps[other],
          Self.bits(of: add, maps: maps, words: words) == bits
        {
          map.values = Self.convolved(
            map: map, input: input, table: input.table, axes: step.axes ?? [],
            weights: weights, bias: bias, outputChannels: step.channels,
            activation: activation, residual: (residual, residual.table))
          maps[add.output] = map
          ran += [step, add]
          shares += [share, share]
          release(after: k)
          release(after: k + 1)
          k += 2
          continue
        }
      }
      map.values = Self.values(of: step, map: map, maps: maps)
      maps[step.output] = map
      ran.append(step)
      shares.append(share)
      release(after: k)
      k += 1
    }
    guard !ran.isEmpty else { return nil }

    // Exits: maps of the prefix read by a step after it, or graph outputs.
    let skipped = Set(stem.replaced).union(ran.map(\.position))
    var read = Set(graph.outputSlots)
    for (position, step) in graph.steps.enumerated() where !skipped.contains(position) {
      for case let slot? in step.inputs { read.insert(slot) }
    }
    self.exits = maps.filter { read.contains($0.key) }.sorted { $0.key < $1.key }.map {
      (slot: $0.key, map: $0.value)
    }
    self.skipped = skipped
    self.shares = shares
  }

  /// The sets of a step's output: the union of its inputs' sets over the positions each output
  /// position reads (note 2 of `ONNXGraph+Reuse`).
  static func bits(of step: ReuseStep, maps: [Int: ItemMap], words: Int) -> [UInt64] {
    let plane = step.height * step.width
    var bits = [UInt64](repeating: 0, count: plane * words)
    for slot in step.inputs {
      guard let input = maps[slot] else { continue }
      if let axes = step.axes {
        for oy in 0..<step.height {
          for ox in 0..<step.width {
            let target = (oy * step.width + ox) * words
            forEachTap(axes, oy, ox, height: input.height, width: input.width) { _, position in
              let source = Int(input.setIndex[position])
              for w in 0..<words { bits[target + w] |= input.setBits[source][w] }
            }
          }
        }
      } else {
        for p in 0..<plane {
          let source = Int(input.setIndex[p])
          for w in 0..<words { bits[p * words + w] |= input.setBits[source][w] }
        }
      }
    }
    return bits
  }

  /// The stem's items: the base plus the boxes of the owner's groups switched on, in group order
  /// as `StemSum.write` sums them, then the activation.
  static func stemValues(_ map: ItemMap, sum: StemSum, batch: MaskedBatch) -> [Float] {
    let (channels, plane, width) = (sum.channels, sum.height * sum.width, sum.width)
    let groupCount = batch.groupCount
    let count = map.itemCount
    return batch.coefficients.storage.withUnsafeBufferPointer { coefficients in
      filled(count, channels) { range, out in
        for item in range {
          let p = Int(map.itemPosition[item])
          let owner = Int(map.itemOwner[item])
          let (y, x) = (p / width, p % width)
          let target = item * channels
          for c in 0..<channels { out[target + c] = sum.base[c * plane + p] }
          let bits = map.setBits[Int(map.setIndex[p])]
          for (w, word) in bits.enumerated() {
            var rest = word
            while rest != 0 {
              let g = w * 64 + rest.trailingZeroBitCount
              rest &= rest - 1
              let coefficient = Float(coefficients[owner * groupCount + g])
              guard coefficient != 0, let box = sum.boxes[g] else { continue }
              let offset = (y - box.top) * box.columns + (x - box.left)
              let boxPlane = box.rows * box.columns
              for c in 0..<channels {
                out[target + c] += coefficient * box.values[c * boxPlane + offset]
              }
            }
          }
          if let activation = sum.activation {
            for c in 0..<channels { out[target + c] = activation(out[target + c]) }
          }
        }
      }
    }
  }

  /// Writes rows `start ..< start + count` (padded to `size` by repeating the last) of an exit
  /// map out as an NCHW tensor.
  static func tensor(_ map: ItemMap, start: Int, count: Int, size: Int) -> Tensor<Float> {
    let (channels, plane) = (map.channels, map.height * map.width)
    // Sixteen positions at a time: their items gathered into a tile, then each channel's
    // sixteen values stored together.
    let block = 16
    let values = [Float](unsafeUninitializedCapacity: size * channels * plane) { out, initialized in
      var tile = [Float](repeating: 0, count: block * channels)
      map.values.withUnsafeBufferPointer { items in
        tile.withUnsafeMutableBufferPointer { tile in
          guard let items = items.baseAddress, let tile = tile.baseAddress,
            let out = out.baseAddress
          else { return }
          for n in 0..<size {
            let row = start + min(n, count - 1)
            let image = out + n * channels * plane
            for first in stride(from: 0, to: plane, by: block) {
              let width = min(block, plane - first)
              for k in 0..<width {
                let source = Int(map.table[row * plane + first + k]) * channels
                (tile + k * channels).update(from: items + source, count: channels)
              }
              for c in 0..<channels {
                let target = image + c * plane + first
                for k in 0..<width { target[k] = tile[k * channels + c] }
              }
            }
          }
        }
      }
      initialized = size * channels * plane
    }
    return Tensor(shape: [size, channels, map.height, map.width], values: values)
  }
}

/// Finds the classes of rows per group set (note 2), with one reusable table.
struct ClassFinder {
  let rows: Int
  let groupCount: Int
  /// The coefficients, `[rows, groups]`, 0 or 1.
  let coefficients: [Double]
  /// A table of 2^16 classes stamped with the set being classified.
  var table = [Int32](repeating: 0, count: 1 << 16)
  var stamps = [Int32](repeating: 0, count: 1 << 16)
  var stamp: Int32 = 0

  /// The most groups a set may have for its rows to be classified (note 2).
  static let maximumGroups = 16

  init(batch: MaskedBatch) {
    (rows, groupCount, coefficients) = (
      batch.rows, batch.groupCount, batch.coefficients.storage
    )
  }

  /// The item map of positions whose group sets are `bits` (`words` per position): the distinct
  /// sets, each row's class per set, and the items in position order (no values yet).
  mutating func map(bits: [UInt64], words: Int, channels: Int, height: Int, width: Int)
    -> SampleReuse.ItemMap
  {
    let plane = height * width
    var indexOf: [[UInt64]: Int32] = [:]
    var setBits: [[UInt64]] = []
    var setIndex = [Int32](repeating: 0, count: plane)
    for p in 0..<plane {
      // Neighbours mostly share their set: compared first, hashed only when they differ.
      if p > 0,
        bits[(p * words)..<((p + 1) * words)].elementsEqual(bits[((p - 1) * words)..<(p * words)])
      {
        setIndex[p] = setIndex[p - 1]
        continue
      }
      let key = Array(bits[(p * words)..<((p + 1) * words)])
      if let index = indexOf[key] {
        setIndex[p] = index
      } else {
        let index = Int32(setBits.count)
        indexOf[key] = index
        setBits.append(key)
        setIndex[p] = index
      }
    }
    let setCount = setBits.count
    var classes = [Int32](repeating: 0, count: rows * setCount)
    // The sets dealt round-robin to the model's threads, each with its own table.
    let workers = max(1, min(ModelThreads.count, setCount))
    let found = classes.withUnsafeMutableBufferPointer { buffer in
      let target = UncheckedSendable(buffer.baseAddress!)
      return mapParts(workers, workers: workers) { part in
        var finder = self
        var owners: [[Int32]] = []
        for index in stride(from: part, to: setCount, by: workers) {
          let (rowClasses, setOwners) = finder.classify(setBits[index])
          if let rowClasses {
            for r in 0..<rows { target.value[r * setCount + index] = rowClasses[r] }
          } else {
            for r in 0..<rows { target.value[r * setCount + index] = Int32(r) }
          }
          owners.append(setOwners)
        }
        return owners
      }
    }
    let owners = (0..<setCount).map { found[$0 % workers][$0 / workers] }
    var firstItem = [Int](repeating: 0, count: plane)
    var total = 0
    for p in 0..<plane {
      firstItem[p] = total
      total += owners[Int(setIndex[p])].count
    }
    // Items grouped by owner row, each row's in position order (note 6): a counting sort.
    var next = [Int](repeating: 0, count: rows + 1)
    for p in 0..<plane {
      for owner in owners[Int(setIndex[p])] { next[Int(owner) + 1] += 1 }
    }
    for r in 0..<rows { next[r + 1] += next[r] }
    var itemPosition = [Int32](repeating: 0, count: total)
    var itemOwner = [Int32](repeating: 0, count: total)
    var itemOf = [Int32](repeating: 0, count: total)
    for p in 0..<plane {
      for (k, owner) in owners[Int(setIndex[p])].enumerated() {
        let item = next[Int(owner)]
        next[Int(owner)] += 1
        itemPosition[item] = Int32(p)
        itemOwner[item] = owner
        itemOf[firstItem[p] + k] = Int32(item)
      }
    }
    var map = SampleReuse.ItemMap(
      channels: channels, height: height, width: width, setIndex: setIndex,
      firstItem: firstItem, itemOf: itemOf, setCount: setCount, classes: classes,
      itemPosition: itemPosition, itemOwner: itemOwner,
      values: [], setBits: setBits)
    map.table = map.itemTable(rows: rows)
    return map
  }

  /// Each row's class on the groups of `set`, and each class's first row; `nil` classes when
  /// the set has more than `maximumGroups` groups (every row its own class).
  mutating func classify(_ set: [UInt64]) -> ([Int32]?, [Int32]) {
    var members: [Int] = []
    for (w, word) in set.enumerated() {
      var rest = word
      while rest != 0 {
        members.append(w * 64 + rest.trailingZeroBitCount)
        rest &= rest - 1
      }
    }
    guard members.count <= Self.maximumGroups else {
      return (nil, (0..<rows).map { Int32($0) })
    }
    stamp += 1
    var classes = [Int32](repeating: 0, count: rows)
    var owners: [Int32] = []
    let groupCount = self.groupCount
    coefficients.withUnsafeBufferPointer { c in
      table.withUnsafeMutableBufferPointer { table in
        stamps.withUnsafeMutableBufferPointer { stamps in
          for r in 0..<rows {
            var key = 0
            let row = r * groupCount
            for (j, g) in members.enumerated() where c[row + g] != 0 { key |= 1 << j }
            if stamps[key] != stamp {
              stamps[key] = stamp
              table[key] = Int32(owners.count)
              owners.append(Int32(r))
            }
            classes[r] = table[key]
          }
        }
      }
    }
    return (classes, owners)
  }
}

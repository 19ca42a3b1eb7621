import GlimpseCore

// Raw-pointer access to array storage for the layers' loops, and the helpers they share.
// `UnsafeBufferPointer` subscripts stay bounds-checked under -O (a compare and branch per
// access, which also keeps the copy loops from vectorising); plain pointers are not. Layers
// check their sizes once, up front, with preconditions.

extension Array {
  /// Calls `body` with the address of the first element.
  /// - Precondition: the array is not empty (layers never run on empty batches).
  @inline(__always)
  func withBase<Result>(_ body: (UnsafePointer<Element>) throws -> Result) rethrows -> Result {
    try withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress, !buffer.isEmpty else {
        preconditionFailure("a layer was handed an empty array")
      }
      return try body(base)
    }
  }

  /// Calls `body` with the mutable address of the first element.
  /// - Precondition: the array is not empty.
  @inline(__always)
  mutating func withMutableBase<Result>(
    _ body: (UnsafeMutablePointer<Element>) throws -> Result
  ) rethrows -> Result {
    try withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress, !buffer.isEmpty else {
        preconditionFailure("a layer was handed an empty array")
      }
      return try body(base)
    }
  }
}

extension Array where Element: GEMMScalar {
  /// An array of `count` values written by `body`, which must set every one: outputs that a
  /// layer overwrites entirely skip the zero-fill (a memset of megabytes per batch).
  @inline(__always)
  static func filled(count: Int, _ body: (UnsafeMutablePointer<Element>) -> Void) -> [Element] {
    precondition(count > 0, "a layer produced an empty array")
    return [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
      guard let base = buffer.baseAddress else { preconditionFailure("no storage") }
      body(base)
      initialized = count
    }
  }
}

/// The gradient of a loss with respect to one layer's parameters, in the layer's own layout.
public struct ParameterGradient<Scalar: GEMMScalar>: Sendable, Equatable {
  /// ∂loss/∂weights, shaped like the layer's `weights` (empty for layers without parameters).
  public var weights: [Scalar]
  /// ∂loss/∂bias, shaped like the layer's `bias`.
  public var bias: [Scalar]

  /// A gradient of the given parts.
  public init(weights: [Scalar], bias: [Scalar]) {
    self.weights = weights
    self.bias = bias
  }

  /// The gradient of a layer without parameters.
  public static var none: ParameterGradient { ParameterGradient(weights: [], bias: []) }
}

/// `target[i] = value` for `count` rows of `length` values, each row filled with its own value:
/// the bias of each output channel written before a GEMM that accumulates onto it (`beta = 1`).
@inline(__always)
func fillRows<Scalar: GEMMScalar>(
  _ target: UnsafeMutablePointer<Scalar>, rows: Int, length: Int, values: UnsafePointer<Scalar>
) {
  forEachRange(rows, costPerItem: length) { range in
    for row in range { (target + row * length).update(repeating: values[row], count: length) }
  }
}

/// Row sums of a `[rows, length]` array: the bias gradient from an output gradient.
@inline(__always)
func rowSums<Scalar: GEMMScalar>(_ source: UnsafePointer<Scalar>, rows: Int, length: Int)
  -> [Scalar]
{
  var sums = [Scalar](repeating: 0, count: rows)
  sums.withMutableBase { sums in
    forEachRange(rows, costPerItem: length) { range in
      for row in range {
        // Four running sums break the chain of dependent additions (a fixed order, so the
        // result does not depend on anything but the values).
        let values = source + row * length
        var s0: Scalar = 0
        var s1: Scalar = 0
        var s2: Scalar = 0
        var s3: Scalar = 0
        var i = 0
        while i + 4 <= length {
          s0 += values[i]
          s1 += values[i + 1]
          s2 += values[i + 2]
          s3 += values[i + 3]
          i += 4
        }
        while i < length {
          s0 += values[i]
          i += 1
        }
        sums[row] = (s0 + s1) + (s2 + s3)
      }
    }
  }
  return sums
}

/// How many threads the models' own loops may use.
enum ModelThreads {
  /// `Parallelism.threadCount`, unless a caller binds less for the work it runs: a training
  /// shard or an inference batch that already has a thread of its own binds 1, so the layers'
  /// loops inside it do not fork again (two levels of forking would put 4 threads on 2 cores and
  /// pay a wake-up per layer for nothing). Task-local rather than a parameter because the loops
  /// sit several calls below the code that knows; tests bind it to compare worker counts in one
  /// process, whose `Parallelism.threadCount` is fixed by `GLIMPSE_THREADS`.
  ///
  /// A binding is seen by the thread (or task) that made it, not by the worker threads,
  /// so code that forks binds it again inside each worker.
  @TaskLocal static var count: Int = Parallelism.threadCount
}

/// Runs `body` over `0..<count` split into contiguous ranges, on `ModelThreads.count` threads
/// when the work (`count · costPerItem`, in values touched) is large enough to pay for waking
/// them (~10 µs), else on the calling thread.
///
/// Every caller writes disjoint parts of its output from each item and computes each value the
/// same way whatever the split, so the result does not depend on the thread count.
func forEachRange(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> Void) {
  let threads = min(ModelThreads.count, count)
  guard threads > 1, count * costPerItem >= 1 << 16 else {
    if count > 0 { body(0..<count) }
    return
  }
  let ranges = contiguousChunks(of: count, parts: threads)
  forkJoin(parts: ranges.count) { part in body(ranges[part]) }
}

/// `transform(part)` for every part of `0..<parts`, in part order, computed on up to `workers`
/// threads (the calling thread among them), each taking the next part from a shared counter;
/// inside `transform`, `ModelThreads.count` is 1.
///
/// For work already split into pieces that each keep a thread busy (training shards, inference
/// batches): the pieces run side by side and the layers' loops inside them stay on their thread.
/// Which thread runs a part depends on scheduling, so `transform` must give the same value on
/// any thread (as it does with OpenBLAS at 1 thread); the result's order never does. With one
/// worker the parts run in order on the calling thread, with the binding left as it is.
func mapParts<T>(_ parts: Int, workers: Int, _ transform: (Int) -> T) -> [T] {
  // Worker threads (the pool's or Dispatch's) do not inherit the caller's task-local binding,
  // so each binds its own.
  parallelMap(
    parts, workers: workers,
    eachWorker: { loop in ModelThreads.$count.withValue(1, operation: loop) },
    transform)
}

/// Runs `body(slot, values)` over arrays of the given `sizes` taken end to end and split into
/// contiguous ranges as `forEachRange` splits them: each call gets the part of one array's
/// indices that falls in one range. For element-wise passes over all of a network's parameter
/// arrays (the optimiser's step, combining the shards' gradients), whose values then do not
/// depend on the split.
func forEachSlotRange(
  sizes: [Int], costPerItem: Int, _ body: (_ slot: Int, _ values: Range<Int>) -> Void
) {
  var starts = [0]
  for size in sizes { starts.append(starts[starts.count - 1] + size) }
  forEachRange(starts[sizes.count], costPerItem: costPerItem) { range in
    for slot in sizes.indices {
      let lower = max(range.lowerBound, starts[slot])
      let upper = min(range.upperBound, starts[slot + 1])
      guard lower < upper else { continue }
      body(slot, (lower - starts[slot])..<(upper - starts[slot]))
    }
  }
}

/// Calls `body` with the base address of every array of `arrays`, all pinned for the call.
func withMutableBases<Scalar>(
  _ arrays: inout [[Scalar]], _ body: ([UnsafeMutablePointer<Scalar>]) -> Void
) {
  arrays.withUnsafeMutableBufferPointer { outer in
    func pin(_ index: Int, _ bases: [UnsafeMutablePointer<Scalar>]) {
      guard index < outer.count else { return body(bases) }
      outer[index].withMutableBase { base in pin(index + 1, bases + [base]) }
    }
    pin(0, [])
  }
}

/// Calls `body` with the base address of every array of `arrays`, all pinned for the call.
func withReadBases<Scalar>(
  _ arrays: [[Scalar]], _ body: ([UnsafePointer<Scalar>]) -> Void
) {
  arrays.withUnsafeBufferPointer { outer in
    func pin(_ index: Int, _ bases: [UnsafePointer<Scalar>]) {
      guard index < outer.count else { return body(bases) }
      outer[index].withBase { base in pin(index + 1, bases + [base]) }
    }
    pin(0, [])
  }
}

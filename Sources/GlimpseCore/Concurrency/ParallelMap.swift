import Dispatch

/// Computes `transform(i)` for every `i` in `0..<count` on all cores and returns the results in
/// index order.
///
/// The order of the results never depends on scheduling, so a deterministic `transform` gives a
/// deterministic result. `transform` must be safe to call from several threads at once.
public func parallelMap<T>(_ count: Int, _ transform: (Int) -> T) -> [T] {
  guard count > 0 else { return [] }
  if count == 1 { return [transform(0)] }
  let results = UnsafeMutablePointer<T?>.allocate(capacity: count)
  results.initialize(repeating: nil, count: count)
  defer {
    results.deinitialize(count: count)
    results.deallocate()
  }
  let slots = SendablePointer(results)
  withoutActuallyEscaping(transform) { transform in
    let box = UncheckedSendable(transform)
    DispatchQueue.concurrentPerform(iterations: count) { index in
      slots.pointer[index] = box.value(index)
    }
  }
  return (0..<count).map { index in
    guard let value = results[index] else { preconditionFailure("slot \(index) was not filled") }
    return value
  }
}

/// Splits `0..<count` into at most `parts` contiguous ranges of near-equal length.
public func contiguousChunks(of count: Int, parts: Int) -> [Range<Int>] {
  guard count > 0 else { return [] }
  let parts = max(1, min(parts, count))
  return (0..<parts).map { part in (count * part / parts)..<(count * (part + 1) / parts) }
}

/// A pointer handed to worker threads that each write distinct elements.
struct SendablePointer<T>: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<T>
  init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// A value handed to worker threads that only read it concurrently.
struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}

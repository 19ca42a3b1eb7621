import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// How many threads Glimpse's own parallel loops use.
public enum Parallelism {
  /// The cores this process may use (`availableCores`), or the `GLIMPSE_THREADS` environment
  /// variable when set (benchmarks use it to compare with single-threaded references; OpenBLAS
  /// has its own `OPENBLAS_NUM_THREADS`).
  public static let threadCount: Int = {
    if let text = getenv("GLIMPSE_THREADS"), let value = Int(String(cString: text)), value >= 1 {
      return value
    }
    return availableCores
  }()

  /// The cores this process may run on, as a cluster job sees them: the online cores, fewer when
  /// the CPU affinity mask (`taskset`, Slurm's binding) allows fewer, fewer again when a cgroup
  /// CPU quota (Kubernetes' `limits.cpu`, Docker's `--cpus`) grants fewer cores' worth of time,
  /// rounded up. Threads beyond these would only take turns on the same cores.
  public static let availableCores: Int = {
    var cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    if let allowed = affinityCount() { cores = min(cores, allowed) }
    if let quota = cgroupQuotaCores() { cores = min(cores, quota) }
    return max(1, cores)
  }()

  /// The CPUs in this process's affinity mask (`Cpus_allowed` of `/proc/self/status`: Glibc's
  /// module does not export `sched_getaffinity`).
  static func affinityCount() -> Int? {
    readSmallFile("/proc/self/status", limit: 1 << 16).flatMap(cpuCount(fromStatus:))
  }

  /// The number of CPUs in the `Cpus_allowed:` line of a `/proc/PID/status` text: a hex mask in
  /// comma-separated 32-bit groups (`ff,00000001` is 9 CPUs).
  static func cpuCount(fromStatus status: String) -> Int? {
    for line in status.split(separator: "\n") where line.hasPrefix("Cpus_allowed:") {
      var count = 0
      for character in line.dropFirst("Cpus_allowed:".count) {
        guard let digit = character.hexDigitValue else { continue }
        count += digit.nonzeroBitCount
      }
      return count > 0 ? count : nil
    }
    return nil
  }

  /// Cores' worth of CPU time the cgroup quota grants (rounded up), or nil when unlimited.
  /// cgroup v2: `cpu.max` ("quota period" or "max period") in the process's own cgroup;
  /// cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = unlimited).
  static func cgroupQuotaCores() -> Int? {
    var candidates: [(quota: String, period: String?)] = []
    if let own = readSmallFile("/proc/self/cgroup") {
      for line in own.split(separator: "\n") where line.hasPrefix("0::") {
        let path = line.dropFirst(3)
        candidates.append(("/sys/fs/cgroup\(path == "/" ? "" : path)/cpu.max", nil))
      }
    }
    candidates.append(("/sys/fs/cgroup/cpu.max", nil))
    candidates.append(
      ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
    for candidate in candidates {
      guard let text = readSmallFile(candidate.quota) else { continue }
      let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
      let quotaText = fields.first.map(String.init) ?? "max"
      let periodText =
        candidate.period.flatMap { readSmallFile($0) }?.split(separator: "\n").first.map(
          String.init)
        ?? (fields.count > 1 ? String(fields[1]) : nil)
      guard let quota = Double(quotaText), quota > 0, let periodText,
        let period = Double(periodText), period > 0
      else { return nil }
      return max(1, Int((quota / period).rounded(.up)))
    }
    return nil
  }

  private static func readSmallFile(_ path: String, limit: Int = 4096) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [CChar](repeating: 0, count: limit)
    let count = fread(&buffer, 1, buffer.count - 1, file)
    guard count > 0 else { return nil }
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// Computes `transform(i)` for every `i` in `0..<count` on `workers` threads (the calling thread
/// among them; by default `Parallelism.threadCount`) and returns the results in index order.
///
/// Workers take the next index from a shared counter, so uneven items balance out. The order of
/// the results never depends on scheduling, so a deterministic `transform` gives a deterministic
/// result. `transform` must be safe to call from several threads at once.
/// - Parameter eachWorker: Wraps each worker thread's loop, e.g. to bind a task-local value
///   there (Dispatch's threads do not inherit the caller's); not called when everything runs on
///   the calling thread (one worker).
public func parallelMap<T>(
  _ count: Int, workers: Int = Parallelism.threadCount,
  eachWorker: (_ loop: () -> Void) -> Void = { $0() }, _ transform: (Int) -> T
) -> [T] {
  guard count > 0 else { return [] }
  let workers = min(workers, count)
  if workers <= 1 { return (0..<count).map(transform) }
  let results = UnsafeMutablePointer<T?>.allocate(capacity: count)
  results.initialize(repeating: nil, count: count)
  defer {
    results.deinitialize(count: count)
    results.deallocate()
  }
  let slots = SendablePointer(results)
  // The counter sits in a class: captured by the nested closure below, a bare `Atomic` (not
  // copyable) trips the compiler ("copy of noncopyable typed value", Swift 6.3).
  let next = SharedCounter()
  withoutActuallyEscaping(transform) { transform in
    withoutActuallyEscaping(eachWorker) { eachWorker in
      let box = UncheckedSendable(transform)
      let wrapper = UncheckedSendable(eachWorker)
      let work: (Int) -> Void = { _ in
        wrapper.value {
          while true {
            let index = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < count else { return }
            slots.pointer[index] = box.value(index)
          }
        }
      }
      forkJoin(parts: workers, work)
    }
  }
  return (0..<count).map { index in
    guard let value = results[index] else { preconditionFailure("slot \(index) was not filled") }
    return value
  }
}

/// Runs `body(part)` for every part of `0..<parts` on `parts` threads, the calling thread among
/// them, and returns when all are done: on the shared `WorkerPool` when it is free and large
/// enough (its threads stay awake between frequent forks), else on Dispatch's threads.
///
/// Inside a part, a nested fork gets the threads the part's share leaves
/// (`ParallelRegion.width / parts`, as libdispatch divides its width among nested applies): on
/// 2 cores a fork inside a 2-part fork runs its parts one after another on its own thread,
/// rather than putting 3 or 4 busy threads on 2 cores.
///
/// `body` must be safe to call from several threads at once.
public func forkJoin(parts: Int, _ body: (Int) -> Void) {
  guard parts > 1 else {
    if parts == 1 { body(0) }
    return
  }
  let width = ParallelRegion.width
  guard width > 1 else {
    for part in 0..<parts { body(part) }
    return
  }
  let inner = max(1, width / parts)
  withoutActuallyEscaping(body) { body in
    let part: (Int) -> Void = { index in ParallelRegion.$width.withValue(inner) { body(index) } }
    if width >= Parallelism.threadCount, WorkerPool.shared.run(parts: parts, part) { return }
    let shared = UncheckedSendable(part)
    DispatchQueue.concurrentPerform(iterations: parts) { index in shared.value(index) }
  }
}

/// The threads a fork at this point may use.
public enum ParallelRegion {
  /// `Parallelism.threadCount` outside any fork; inside a part of a fork of p parts with width
  /// w, `max(1, w / p)` (bound by `forkJoin` on each part's thread).
  @TaskLocal public static var width: Int = Parallelism.threadCount
}

/// Runs `body` over contiguous parts of `0..<count`, four per thread, when `count` reaches
/// `minimumCount`; below it (waking threads would cost more than the pass) over all of
/// `0..<count` at once on the calling thread. For passes that compute each value on its own, so
/// that the split changes no value. `body` must be safe to call from several threads at once.
public func forEachChunk(
  of count: Int, minimumCount: Int = 1 << 14, _ body: (Range<Int>) -> Void
) {
  guard count >= minimumCount, Parallelism.threadCount > 1 else {
    if count > 0 { body(0..<count) }
    return
  }
  // Four chunks per thread, claimed as threads free up: a thread slowed by another process's
  // load holds up a small chunk, not half the pass.
  let chunks = contiguousChunks(of: count, parts: Parallelism.threadCount * 4)
  _ = parallelMap(chunks.count) { index in
    body(chunks[index])
    return 0
  }
}

/// Splits `0..<count` into at most `parts` contiguous ranges of near-equal length.
public func contiguousChunks(of count: Int, parts: Int) -> [Range<Int>] {
  guard count > 0 else { return [] }
  let parts = max(1, min(parts, count))
  return (0..<parts).map { part in (count * part / parts)..<(count * (part + 1) / parts) }
}

/// An atomic counter shared by reference between worker threads.
private final class SharedCounter: Sendable {
  let value = Atomic(0)
}

/// A pointer handed to worker threads that each write distinct elements.
struct SendablePointer<T>: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<T>
  init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// A value handed to worker threads that only read it concurrently, or only use it under a
/// lock: the one unchecked-Sendable box of the package (the caller vouches for the access).
package struct UncheckedSendable<T>: @unchecked Sendable {
  /// The boxed value.
  package let value: T
  /// Boxes `value`.
  package init(_ value: T) { self.value = value }
}

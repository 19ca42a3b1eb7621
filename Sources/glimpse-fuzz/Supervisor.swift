#if canImport(Glibc)
  import Glibc
#endif

/// Runs a target's executions in a forked child and survives whatever the child does.
///
/// A trap, an abort, a segfault, an allocation failure under the memory cap or a hang kills
/// only the child; the parent reads the input that did it from memory the two share, keeps it
/// as a reproducer, and starts a new child at the next execution. This is libFuzzer's
/// `-fork` mode in miniature, and needs no signal handler in the code under test.
///
/// Shared page layout: `[0]` executions finished, `[1]` the execution running, `[2]` length of
/// the input being run, `[3]` inputs the reader accepted (returned a value), then the input's
/// bytes.
final class Supervisor {
  /// What one child run ended with.
  enum Ending: Equatable {
    case finished
    case crashed(signal: Int32)
    case exited(status: Int32)
    case hung
  }

  let capacity: Int
  private let shared: UnsafeMutableRawPointer
  private let headerBytes = 64

  /// - Parameter capacity: the largest input, in bytes.
  init(capacity: Int) {
    self.capacity = capacity
    let length = capacity + headerBytes
    guard let memory = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
      memory != MAP_FAILED
    else { fatalError("glimpse-fuzz: cannot map \(length) bytes of shared memory") }
    shared = memory
  }

  private var counters: UnsafeMutablePointer<Int> {
    shared.assumingMemoryBound(to: Int.self)
  }

  /// Executions the current child has finished (absolute numbering).
  var finished: Int {
    get { counters[0] }
    set { counters[0] = newValue }
  }

  /// Inputs the reader read without an error, over every child so far.
  var accepted: Int {
    get { counters[3] }
    set { counters[3] = newValue }
  }

  /// The input the child is running, as the parent sees it after the child died.
  var currentInput: [UInt8] {
    let length = max(0, min(counters[2], capacity))
    let bytes = (shared + headerBytes).assumingMemoryBound(to: UInt8.self)
    return Array(UnsafeBufferPointer(start: bytes, count: length))
  }

  /// Called by the child before running `input`: the parent can recover it if the run dies.
  func record(_ input: [UInt8], execution: Int) {
    let length = min(input.count, capacity)
    input.withUnsafeBytes { raw in
      if let base = raw.baseAddress {
        (shared + headerBytes).copyMemory(from: base, byteCount: length)
      }
    }
    counters[2] = length
    counters[1] = execution
  }

  /// Forks a child that runs `body(startingAt)` and waits for it, killing it when no execution
  /// finishes within `timeout` seconds.
  /// - Parameters:
  ///   - memoryLimit: the child's address-space cap in bytes (allocation bombs fail inside it).
  ///   - body: runs executions from the given index and returns when the budget is spent.
  func runChild(
    startingAt start: Int, timeout: Double, memoryLimit: Int, body: (Int) -> Void
  ) -> Ending {
    finished = start
    counters[1] = start
    let pid = fork()
    if pid == 0 {
      var limit = rlimit(rlim_cur: rlim_t(memoryLimit), rlim_max: rlim_t(memoryLimit))
      setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
      body(start)
      _exit(0)
    }
    guard pid > 0 else { fatalError("glimpse-fuzz: fork failed") }
    var lastProgress = finished
    var lastChange = now()
    while true {
      var status: Int32 = 0
      let waited = waitpid(pid, &status, WNOHANG)
      if waited == pid {
        let signal = status & 0x7f
        if signal == 0 {
          let code = (status >> 8) & 0xff
          return code == 0 ? .finished : .exited(status: code)
        }
        return .crashed(signal: signal)
      }
      if finished != lastProgress {
        lastProgress = finished
        lastChange = now()
      } else if now() - lastChange > timeout {
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return .hung
      }
      usleep(2_000)
    }
  }
}

/// Seconds on the monotonic clock.
func now() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

import Glibc
import Synchronization

// Implementation notes
// 1. The child is started with posix_spawn(p): its standard input, output and error are pipes,
//    every other descriptor of Glimpse's is close-on-exec (the pipes are made close-on-exec and
//    dup2'd onto 0, 1, 2 by the spawn's file actions).
// 2. One loop serves an exchange: poll() on the request pipe (while bytes remain to write), the
//    answer pipe and the error pipe, with the time left before the deadline. The pipes are
//    non-blocking, so a child that stops reading cannot block Glimpse's write and a child that
//    fills its stderr pipe is drained (only its last line is kept, for messages).
// 3. A write to a child that has exited would raise SIGPIPE and end Glimpse: SIGPIPE is ignored
//    process-wide when the first child is started (the write then fails with EPIPE, which is
//    reported as the child's exit).

/// A started model command: its pipes, its stderr's last line, its exit.
final class ModelProcess {
  /// What went wrong while talking to the child.
  enum Failure: Error {
    /// The child closed its output or exited: its wait status, if it was reaped.
    case exited(status: Int32?)
    /// No answer before the deadline (the child has been killed).
    case timedOut
    /// A system call failed.
    case system(String)
  }

  let pid: pid_t
  private let input: Int32
  private let output: Int32
  private let errors: Int32
  private var inputClosed = false
  private var errorsOpen = true
  private var stderrTail: [UInt8] = []
  private var reaped: Int32?

  /// Pipes are made and children spawned under one lock, so that a child started by another
  /// thread cannot inherit a pipe end between its creation and its close-on-exec flag.
  private static let spawnLock = Mutex(())

  /// Starts `arguments[0]` (searched in PATH) with the given arguments.
  init(arguments: [String]) throws(Failure) {
    signal(SIGPIPE, SIG_IGN)
    let started = Self.spawnLock.withLock { _ in Self.spawn(arguments) }
    let (child, input, output, errors) = try started.get()
    pid = child
    self.input = input
    self.output = output
    self.errors = errors
    for fd in [input, output, errors] {
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
  }

  /// The child's pid and Glimpse's ends of its standard input, output and error.
  private static func spawn(_ arguments: [String]) -> Result<
    (pid_t, Int32, Int32, Int32), Failure
  > {
    var stdinPipe: [Int32] = [-1, -1]
    var stdoutPipe: [Int32] = [-1, -1]
    var stderrPipe: [Int32] = [-1, -1]
    guard makePipe(&stdinPipe) == 0 else { return .failure(.system("pipe: \(errorText())")) }
    guard makePipe(&stdoutPipe) == 0 else {
      close(stdinPipe[0])
      close(stdinPipe[1])
      return .failure(.system("pipe: \(errorText())"))
    }
    guard makePipe(&stderrPipe) == 0 else {
      for fd in stdinPipe + stdoutPipe { close(fd) }
      return .failure(.system("pipe: \(errorText())"))
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
    posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
    var cArguments = arguments.map { strdup($0) }
    cArguments.append(nil)
    defer { for pointer in cArguments { free(pointer) } }
    var child: pid_t = 0
    let status = posix_spawnp(&child, arguments[0], &actions, nil, cArguments, environ)
    close(stdinPipe[0])
    close(stdoutPipe[1])
    close(stderrPipe[1])
    guard status == 0 else {
      close(stdinPipe[1])
      close(stdoutPipe[0])
      close(stderrPipe[0])
      return .failure(
        .system("cannot start '\(arguments[0])': \(String(cString: strerror(status)))"))
    }
    return .success((child, stdinPipe[1], stdoutPipe[0], stderrPipe[0]))
  }

  deinit {
    stop(grace: 1)
    close(output)
    close(errors)
  }

  /// The last non-empty line the child wrote on its standard error, if any.
  var lastErrorLine: String? {
    let text = String(decoding: stderrTail, as: UTF8.self)
    return text.split(whereSeparator: \.isNewline).last.map {
      $0.trimming(" \t\r")
    }.flatMap { $0.isEmpty ? nil : $0 }
  }

  /// Writes `request` (may be empty) and reads exactly `count` bytes of answer, before
  /// `deadline` (monotonic seconds).
  func exchange(write request: [UInt8], read count: Int, deadline: Double) throws(Failure)
    -> [UInt8]
  {
    var written = 0
    var answer = [UInt8]()
    answer.reserveCapacity(count)
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while answer.count < count || written < request.count {
      let left = deadline - Self.now()
      guard left > 0 else {
        kill(pid, SIGKILL)
        reap(blocking: true)
        throw .timedOut
      }
      let reading = answer.count < count
      var fds = [pollfd(fd: output, events: reading ? Int16(POLLIN) : 0, revents: 0)]
      if errorsOpen { fds.append(pollfd(fd: errors, events: Int16(POLLIN), revents: 0)) }
      let writing = written < request.count
      if writing { fds.append(pollfd(fd: input, events: Int16(POLLOUT), revents: 0)) }
      let ready = poll(&fds, nfds_t(fds.count), Int32(min(left * 1000 + 1, 60_000)))
      if ready < 0 {
        if errno == EINTR { continue }
        throw .system("poll: \(Self.errorText())")
      }
      if ready == 0 { continue }
      let inputIndex = errorsOpen ? 2 : 1
      if errorsOpen, fds[1].revents != 0 { drainErrors(&buffer) }
      if writing, fds[inputIndex].revents != 0 {
        let n = request.withUnsafeBytes { raw in
          Glibc.write(input, raw.baseAddress! + written, min(request.count - written, 1 << 20))
        }
        if n > 0 {
          written += n
        } else if n < 0, errno != EAGAIN, errno != EINTR {
          // EPIPE: the child does not read any more; its exit is what to report.
          throw exitFailure(&buffer)
        }
      }
      if reading, fds[0].revents != 0 {
        let n = read(output, &buffer, min(buffer.count, count - answer.count))
        if n > 0 {
          answer += buffer[0..<n]
        } else if n == 0 {
          throw exitFailure(&buffer)
        } else if errno != EAGAIN, errno != EINTR {
          throw .system("read: \(Self.errorText())")
        }
      }
    }
    return answer
  }

  /// Closes the child's input and waits up to `grace` seconds for it to exit, then kills it.
  func stop(grace: Double) {
    if !inputClosed {
      close(input)
      inputClosed = true
    }
    guard reaped == nil else { return }
    let deadline = Self.now() + grace
    while Self.now() < deadline {
      if reap(blocking: false) { return }
      usleep(10_000)
    }
    kill(pid, SIGKILL)
    reap(blocking: true)
  }

  /// The child's exit, once its output has ended: reaped (waiting a little for it), with the
  /// stderr read to its end.
  private func exitFailure(_ buffer: inout [UInt8]) -> Failure {
    let deadline = Self.now() + 2
    while Self.now() < deadline, !reap(blocking: false) {
      drainErrors(&buffer)
      usleep(5_000)
    }
    if reaped == nil {
      kill(pid, SIGKILL)
      reap(blocking: true)
    }
    drainErrors(&buffer)
    return .exited(status: reaped)
  }

  /// Reads what the child's stderr holds now, keeping its last 4 KB.
  private func drainErrors(_ buffer: inout [UInt8]) {
    while errorsOpen {
      let n = read(errors, &buffer, buffer.count)
      if n == 0 { errorsOpen = false }
      guard n > 0 else { return }
      stderrTail += buffer[0..<n]
      if stderrTail.count > 4096 { stderrTail.removeFirst(stderrTail.count - 4096) }
    }
  }

  /// Collects the child's exit status; true once it has.
  @discardableResult
  private func reap(blocking: Bool) -> Bool {
    if reaped != nil { return true }
    var status: Int32 = 0
    while true {
      let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
      if result == pid {
        reaped = status
        return true
      }
      if result < 0, errno == EINTR { continue }
      return false
    }
  }

  /// A pipe whose two ends are close-on-exec (pipe2 is not in Glibc's Swift overlay).
  private static func makePipe(_ fds: inout [Int32]) -> Int32 {
    guard pipe(&fds) == 0 else { return -1 }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return 0
  }

  /// Monotonic seconds.
  static func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }

  static func errorText() -> String { String(cString: strerror(errno)) }

  /// "exited with status N" or "was killed by signal N (NAME)".
  static func describe(waitStatus status: Int32) -> String {
    let signal = status & 0x7f
    if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
    let names: [Int32: String] = [
      SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGTERM: "SIGTERM",
      SIGINT: "SIGINT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGILL: "SIGILL", SIGPIPE: "SIGPIPE",
    ]
    return "was killed by signal \(signal)\(names[signal].map { " (\($0))" } ?? "")"
  }
}

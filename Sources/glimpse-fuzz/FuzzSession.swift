import GlimpseCore
import GlimpseData

#if canImport(Glibc)
  import Glibc
#endif

/// One target's seeds, scratch folder and supervisor.
struct FuzzSession {
  /// What a fuzzing run did.
  struct Report {
    var target: String
    var executions: Int
    var seconds: Double
    var crashes: Int
    var hangs: Int
    var badMessages = 0
    /// Inputs the reader read without an error: mutations that stayed valid, a measure of how
    /// deep the fuzzing reaches past the first checks.
    var accepted = 0
    var saved: [String]

    var failures: Int { crashes + hangs + badMessages }

    var line: String {
      let rate = seconds > 0 ? Int((Double(executions) / seconds).rounded()) : 0
      return "\(target): \(executions) executions in \(Int(seconds.rounded())) s (\(rate)/s), "
        + "\(accepted) read without error, "
        + "\(crashes) crashes, \(hangs) hangs, \(badMessages) bad messages"
    }
  }

  let target: FuzzTarget
  let options: FuzzOptions
  let seeds: [[UInt8]]
  let scratch: String
  let supervisor: Supervisor
  let mutator = Mutator()

  init(target: FuzzTarget, options: FuzzOptions) throws {
    self.target = target
    self.options = options
    let files = listFiles(options.corpus + "/" + target.name)
    seeds = try files.map { try FileBytes.readRaw($0) }
    guard !seeds.isEmpty else {
      throw FuzzError("no seeds in \(options.corpus)/\(target.name)")
    }
    var template = Array("/dev/shm/glimpse-fuzz-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw FuzzError("cannot make a scratch folder") }
    scratch = String(cString: made)
    supervisor = Supervisor(capacity: mutator.maxLength + 1 << 20)
  }

  /// Mutates and runs inputs until `runs` executions or `seconds` have passed, restarting the
  /// child after each crash or hang and saving the input that caused it.
  func fuzz(runs: Int, seconds: Double) -> Report {
    let started = now()
    let deadline = started + seconds
    var report = Report(
      target: target.name, executions: 0, seconds: 0, crashes: 0, hangs: 0, saved: [])
    var next = 0
    supervisor.accepted = 0
    while next < runs && now() < deadline {
      let ending = supervisor.runChild(
        startingAt: next, timeout: options.timeout, memoryLimit: options.memoryMib << 20
      ) { start in
        var execution = start
        while execution < runs && (execution & 63 != 0 || now() < deadline) {
          let input = mutatedInput(execution)
          supervisor.record(input, execution: execution)
          if runChecked(input) { supervisor.accepted += 1 }
          execution += 1
          supervisor.finished = execution
        }
      }
      switch ending {
      case .finished:
        next = supervisor.finished
      case .crashed, .exited, .hung:
        let failed = supervisor.finished
        switch ending {
        case .hung: report.hangs += 1
        case .exited(Self.badMessageStatus): report.badMessages += 1
        default: report.crashes += 1
        }
        report.saved.append(save(supervisor.currentInput, ending: ending, execution: failed))
        next = failed + 1
      }
    }
    report.executions = next
    report.accepted = supervisor.accepted
    report.seconds = now() - started
    return report
  }

  /// Removes the scratch folder and the files targets left in it.
  func removeScratch() {
    for file in listFiles(scratch) { unlink(file) }
    rmdir(scratch)
  }

  /// Runs one input in a child; what it ended with.
  func replay(_ input: [UInt8]) -> Supervisor.Ending {
    supervisor.runChild(
      startingAt: 0, timeout: options.timeout, memoryLimit: options.memoryMib << 20
    ) {
      _ in
      supervisor.record(input, execution: 0)
      _ = runChecked(input)
      supervisor.finished = 1
    }
  }

  /// Runs one input; an error whose message breaks the one-line rule ends the child with
  /// `Self.badMessageStatus`, so the input is kept like a crash's.
  /// - Returns: whether the reader accepted the input.
  func runChecked(_ input: [UInt8]) -> Bool {
    do {
      try target.run(input, scratch)
      return true
    } catch {
      if let problem = Self.messageProblem(String(describing: error)) {
        let line = "bad message (\(problem)): \(String(describing: error).prefix(300))\n"
        _ = line.utf8CString.withUnsafeBufferPointer {
          Glibc.write(2, $0.baseAddress, $0.count - 1)
        }
        _exit(Self.badMessageStatus)
      }
      return false
    }
  }

  /// The child's exit status for an error message that breaks the rule.
  static let badMessageStatus: Int32 = 66

  /// What is wrong with an error message, if anything: a user sees one line that names the file
  /// and quotes at most a short, escaped piece of it.
  static func messageProblem(_ message: String) -> String? {
    if message.contains(where: { $0.isNewline }) { return "several lines" }
    if message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
      return "control characters"
    }
    if message.unicodeScalars.contains("\u{FFFD}") { return "undecodable bytes" }
    if message.count > 400 { return "\(message.count) characters" }
    return nil
  }

  /// The input of execution `execution`: a seed, mutated, its checksums repaired. Execution
  /// numbers and the seed make every input reproducible.
  func mutatedInput(_ execution: Int) -> [UInt8] {
    var rng = SeededGenerator(seed: options.seed).stream(UInt64(execution))
    let seed = seeds[Int(rng.next() % UInt64(seeds.count))]
    let other = seeds[Int(rng.next() % UInt64(seeds.count))]
    return target.repair(mutator.mutate(seed, other: other, text: target.text, using: &rng))
  }

  private func save(_ input: [UInt8], ending: Supervisor.Ending, execution: Int) -> String {
    let folder = options.crashes + "/" + target.name
    let kind: String
    switch ending {
    case .crashed(let signal): kind = "crash-signal\(signal)"
    case .exited(let status):
      kind = status == Self.badMessageStatus ? "bad-message" : "exit\(status)"
    case .hung: kind = "hang"
    case .finished: kind = "ok"
    }
    let path = "\(folder)/\(kind)-\(options.seed)-\(execution).bin"
    do {
      try AtomicFile.write(input, to: path)
      print("\(target.name): \(kind) at execution \(execution), saved \(path)")
    } catch {
      print("\(target.name): \(kind) at execution \(execution), could not save: \(error)")
    }
    return path
  }
}

/// A fuzzer set-up problem (no seeds, no scratch folder).
struct FuzzError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

import ArgumentParser
import GlimpseCore
import GlimpseData

#if canImport(Glibc)
  import Glibc
#endif

/// `glimpse-fuzz`: a mutation fuzzer over Glimpse's readers (CSV, gzip, bzip2, label tables,
/// IDX, PNG, JPEG, model files).
///
/// Each target takes the valid seeds in `Tests/Fuzz/Corpus/<target>/`, mutates them (see
/// `Mutator`) and feeds them to the reader in a forked child with a memory cap, so a trap, an
/// abort, an allocation bomb or a hang is caught, its input kept, and fuzzing goes on. Inputs
/// that once crashed live in `Tests/Fuzz/Regressions/<target>/` and are replayed first.
@main
struct GlimpseFuzz: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "glimpse-fuzz",
    abstract:
      "Mutation fuzzing of Glimpse's readers; crashes, aborts and hangs are kept as reproducers.",
    discussion: """
      Run with OPENBLAS_NUM_THREADS=1 (children are forked). Exit status: 0 when every run \
      returned or threw, 1 when any crashed or hung.
      """,
    subcommands: [ListTargets.self, Fuzz.self, Replay.self, Smoke.self])
}

/// Options shared by the commands that fuzz.
struct FuzzOptions: ParsableArguments {
  @Option(help: "Seed folders, one per target.")
  var corpus = "Tests/Fuzz/Corpus"

  @Option(help: "Inputs that once failed, one folder per target (replayed first by smoke).")
  var regressions = "Tests/Fuzz/Regressions"

  @Option(help: "Where crashing and hanging inputs are saved, one folder per target.")
  var crashes = ".build/fuzz-crashes"

  @Option(help: "Seconds one execution may take before it counts as a hang.")
  var timeout = 10.0

  @Option(help: "Address-space cap of the fuzzed process, MiB (allocation bombs fail inside it).")
  var memoryMib = 2048

  @Option(help: "Seed of the mutations.")
  var seed: UInt64 = 1
}

struct ListTargets: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "list", abstract: "The targets.")

  func run() {
    for target in FuzzTarget.all { print("\(target.name)\t\(target.summary)") }
  }
}

struct Fuzz: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Fuzz one target for a number of executions or seconds.")

  @Argument(help: "The target (see list).")
  var target: String

  @Option(help: "Executions (default: until --seconds).")
  var runs: Int?

  @Option(help: "Seconds (default: until --runs).")
  var seconds: Double?

  @OptionGroup var options: FuzzOptions

  func run() throws {
    guard let fuzzTarget = FuzzTarget.named(target) else {
      throw ValidationError("unknown target '\(target)'; see glimpse-fuzz list")
    }
    guard runs != nil || seconds != nil else { throw ValidationError("give --runs or --seconds") }
    let session = try FuzzSession(target: fuzzTarget, options: options)
    defer { session.removeScratch() }
    let report = session.fuzz(runs: runs ?? Int.max, seconds: seconds ?? .infinity)
    print(report.line)
    if report.failures > 0 { throw ExitCode(1) }
  }
}

struct Replay: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract:
      "Run saved inputs through a target (in this process with --in-process, to see the trap).")

  @Argument(help: "The target.")
  var target: String

  @Argument(help: "Input files.")
  var files: [String]

  @Flag(help: "Run in this process: a trap shows its backtrace.")
  var inProcess = false

  @OptionGroup var options: FuzzOptions

  func run() throws {
    guard let fuzzTarget = FuzzTarget.named(target) else {
      throw ValidationError("unknown target '\(target)'; see glimpse-fuzz list")
    }
    let session = try FuzzSession(target: fuzzTarget, options: options)
    defer { session.removeScratch() }
    var failed = 0
    for file in files {
      let input = try FileBytes.readRaw(file)
      if inProcess {
        do { try fuzzTarget.run(input, session.scratch) } catch {
          print("\(file): threw: \(error)")
        }
        print("\(file): returned")
        continue
      }
      let ending = session.replay(input)
      print("\(file): \(ending)")
      if ending != .finished { failed += 1 }
    }
    if failed > 0 { throw ExitCode(1) }
  }
}

struct Smoke: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "smoke",
    abstract: "Replay every saved regression, then fuzz every target briefly (make test runs this)."
  )

  @Option(help: "Seconds of fuzzing per target.")
  var seconds = 5.0

  @OptionGroup var options: FuzzOptions

  func run() throws {
    var failures = 0
    for target in FuzzTarget.all {
      let session = try FuzzSession(target: target, options: options)
      defer { session.removeScratch() }
      let regressions = listFiles(options.regressions + "/" + target.name)
      for file in regressions {
        let ending = session.replay(try FileBytes.readRaw(file))
        if ending != .finished {
          print("\(file): \(ending)")
          failures += 1
        }
      }
      let report = session.fuzz(runs: Int.max, seconds: seconds)
      print("\(report.line), \(regressions.count) regressions replayed")
      failures += report.failures
    }
    if failures > 0 {
      print("glimpse-fuzz: \(failures) failing inputs (see above)")
      throw ExitCode(1)
    }
  }
}

/// The files directly inside `folder`, sorted (none when it does not exist).
func listFiles(_ folder: String) -> [String] {
  guard let directory = opendir(folder) else { return [] }
  defer { closedir(directory) }
  var names: [String] = []
  while let entry = readdir(directory) {
    let name = withUnsafePointer(to: entry.pointee.d_name) {
      $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
    }
    if !name.hasPrefix(".") { names.append(folder + "/" + name) }
  }
  return names.sorted()
}

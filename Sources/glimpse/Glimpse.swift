import ArgumentParser
import Glibc
import GlimpseCore
import GlimpseData

/// The `glimpse` command: explains image classifiers and values their training data.
@main
struct Glimpse: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "glimpse",
    abstract: "Explain image classifiers: where they hesitate, why, and which training data helps.",
    discussion: """
      DATA is a CSV table (.csv, .csv.gz, .csv.bz2; a 'label' column or --labels FILE), an MNIST \
      IDX file (with --labels), or an image folder laid out as root/<class>/*.png|jpg.

      Sizes are height × width everywhere: --size HxW, --shape HxWxC (28x28x1 is 28 rows of 28 \
      pixels, one channel), and printed sizes such as 28×28 (H×W). --shard k/n counts from 0 \
      (k in 0..<n), as Slurm's SLURM_ARRAY_TASK_ID and Kubernetes' JOB_COMPLETION_INDEX do.

      Exit status: 0 success; 1 the command failed (an internal or system failure); 3 partial: \
      the command finished, but skipped some items (unreadable files in a folder, explanations \
      that could not be written), listed on standard error and, for explain-batch, in \
      OUT/skipped*.txt; 64 usage error (unknown command or option, bad argument value); 65 bad \
      input: a data or model file is missing, unreadable or malformed, or an output cannot be \
      written (the message names the file).

      An output never replaces an input: a path that is (or links to) a file the command reads, \
      or lies inside a folder it reads, is refused before any work (exit 65).
      """,
    version: version,
    subcommands: [
      InfoCommand.self, ExportCommand.self, TrainCommand.self, EvaluateCommand.self,
      PredictCommand.self, EmbedCommand.self, AmbiguousCommand.self, ExplainCommand.self,
      ExplainBatchCommand.self, ValueCommand.self, CleanCommand.self,
      CompareSegmentersCommand.self, CompareExplainersCommand.self, SegmentCommand.self,
      GalleryCommand.self, DemoCommand.self,
      ImportCommand.self, AuditCommand.self,
    ])

  static func main() {
    keepLargeBuffers()
    let status = execute(Array(CommandLine.arguments.dropFirst())) { line in
      printError(line)
    }
    Glibc.exit(status)
  }

  /// Tells glibc's allocator to keep freed buffers of up to 32 MB for reuse instead of handing
  /// them back to the kernel: a CNN's maps at 224×224 are 1–25 MB per batch, allocated and freed
  /// every step, and by default each one was mmapped, faulted in page by page and unmapped
  /// again. Training the resnet on 72 grey 224×224 images spent 4.1 s in the kernel against
  /// 3.2 s of work (11.2 s wall for 10 epochs on one thread); with this, 0.2 s and 3.9 s wall.
  /// Peak memory is unchanged (the same buffers, reused); the heap is only trimmed above 1 GB
  /// of free space at its top.
  static func keepLargeBuffers() {
    // <malloc.h>'s M_TRIM_THRESHOLD and M_MMAP_THRESHOLD (not in Swift's Glibc module).
    _ = glibcMallopt(-3, 32 << 20)
    _ = glibcMallopt(-1, 1 << 30)
  }

  /// Parses and runs one command line; returns the exit status. Errors become one line passed
  /// to `reportError` (help and version text go to standard output, as usual). A command that
  /// succeeded but skipped items (`SkippedItems.record`) exits `ExitStatus.partial`, and the
  /// last line passed to `reportError` says how many and where they are listed.
  static func execute(_ arguments: [String], reportError: (String) -> Void) -> Int32 {
    if let unknown = unknownCommand(in: arguments) {
      reportError(
        "glimpse: error: unknown command '\(unknown)'; see 'glimpse --help' for the commands")
      return ExitStatus.usage
    }
    let skipped = SkippedItems()
    let status = SkippedItems.$current.withValue(skipped) {
      run(arguments, reportError: reportError)
    }
    guard status == 0, skipped.count > 0 else { return status }
    reportError("glimpse: \(skipped.summary); exit status \(ExitStatus.partial) (partial)")
    return ExitStatus.partial
  }

  private static func run(_ arguments: [String], reportError: (String) -> Void) -> Int32 {
    do {
      var command = try parseAsRoot(arguments)
      // Outputs that name an input are refused before any work; the inputs stay protected
      // from every write while the command runs.
      let registration = try (command as? CommandFiles)?.protectInputs()
      defer { registration.map(InputProtection.release) }
      try command.run()
      return 0
    } catch let error as GlimpseError {
      // One line whatever a file name holds (a newline, an escape sequence).
      reportError("glimpse: error: \(oneLine(error.description))")
      return ExitStatus.badInput
    } catch let error as CommandFailure {
      reportError("glimpse: error: \(oneLine(error.message))")
      return error.status
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if code == .success {
        if !message.isEmpty { print(message) }
        return 0
      }
      reportError(message.isEmpty ? "glimpse: error: \(error)" : message)
      return code.rawValue
    }
  }

  /// The command path a help request names but that does not exist (`glimpse help nope`,
  /// `glimpse nope --help`, `glimpse value nope` for `help`), or `nil`.
  ///
  /// ArgumentParser answers `help nope` and `nope --help` with the root's help and status 0,
  /// which hides a typo in a script; an unknown first word is a usage error like any other.
  static func unknownCommand(in arguments: [String]) -> String? {
    func subcommand(of command: ParsableCommand.Type, named name: String) -> ParsableCommand.Type? {
      command.configuration.subcommands.first {
        ($0.configuration.commandName ?? $0._commandName) == name
          || $0.configuration.aliases.contains(name)
      }
    }
    guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
    if first == "help" {
      // Every word after `help` must name a subcommand of the one before.
      var command: ParsableCommand.Type = Glimpse.self
      var path: [String] = []
      for word in arguments.dropFirst() where !word.hasPrefix("-") {
        path.append(word)
        guard let next = subcommand(of: command, named: word) else {
          return path.joined(separator: " ")
        }
        command = next
      }
      return nil
    }
    // The root takes no positional arguments: its first word must be a command.
    return subcommand(of: Glimpse.self, named: first) == nil ? first : nil
  }
}

/// Exit statuses of `glimpse` (sysexits.h where one fits); `glimpse --help` lists them.
enum ExitStatus {
  /// The command itself failed (not the data): the default of `CommandFailure`.
  static let failure: Int32 = 1
  /// Some items of a batch were skipped; the rest succeeded.
  static let partial: Int32 = 3
  /// A usage error: unknown command or option, bad argument (EX_USAGE).
  static let usage: Int32 = 64
  /// Bad data or files (EX_DATAERR).
  static let badInput: Int32 = 65
}

/// A failure of the command itself (not of the data), with its exit status.
struct CommandFailure: Error {
  var message: String
  var status: Int32 = ExitStatus.failure
}

/// The items the running command skipped (files of a folder it could not read, explanations it
/// could not write), counted so that `Glimpse.execute` can turn a success into
/// `ExitStatus.partial`.
///
/// One counter per `execute` call, bound as a task-local value: commands run side by side in
/// one process (the tests) keep their own counts, and code outside `execute` records nothing.
final class SkippedItems: @unchecked Sendable {
  /// The counter of the command being run by `Glimpse.execute`, if any.
  @TaskLocal static var current: SkippedItems?

  private let lock = Lock()
  private var total = 0
  private var listings: [String] = []

  /// Adds `count` skipped items to the running command's count; `listedIn` names a file
  /// that lists them (they are always listed on standard error too).
  static func record(_ count: Int, listedIn file: String? = nil) {
    guard count > 0, let counter = current else { return }
    counter.lock.locked {
      counter.total += count
      if let file, !counter.listings.contains(file) { counter.listings.append(file) }
    }
  }

  /// Skipped items so far.
  var count: Int { lock.locked { total } }

  /// `skipped 2 items, listed above and in out/skipped.txt`.
  var summary: String {
    lock.locked {
      "skipped \(total) item\(total == 1 ? "" : "s"), listed above"
        + (listings.isEmpty ? "" : " and in " + listings.joined(separator: ", "))
    }
  }
}

/// A pthread mutex (this target avoids Foundation's locks).
final class Lock: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  init() { pthread_mutex_init(&mutex, nil) }
  deinit { pthread_mutex_destroy(&mutex) }

  /// Runs `body` holding the lock.
  func locked<T>(_ body: () throws -> T) rethrows -> T {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return try body()
  }
}

/// glibc's `int mallopt(int param, int value)` (declared in <malloc.h>, which Swift's Glibc
/// module does not import).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

import ArgumentParser
import GlimpseCore
import GlimpseData
import Glibc

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
      """,
    version: version,
    subcommands: [
      InfoCommand.self, ExportCommand.self, TrainCommand.self, EvaluateCommand.self,
      PredictCommand.self, EmbedCommand.self, AmbiguousCommand.self, ExplainCommand.self,
      ExplainBatchCommand.self, ValueCommand.self, CleanCommand.self,
      CompareSegmentersCommand.self, SegmentCommand.self, GalleryCommand.self, DemoCommand.self,
      BenchCommand.self,
    ])

  static func main() {
    let status = execute(Array(CommandLine.arguments.dropFirst())) { line in
      printError(line)
    }
    Glibc.exit(status)
  }

  /// Parses and runs one command line; returns the exit status. Errors become one line passed
  /// to `reportError` (help and version text go to standard output, as usual).
  static func execute(_ arguments: [String], reportError: (String) -> Void) -> Int32 {
    do {
      var command = try parseAsRoot(arguments)
      // Outputs that name an input are refused before any work; the inputs stay protected
      // from every write while the command runs.
      let registration = try (command as? CommandFiles)?.protectInputs()
      defer { registration.map(InputProtection.release) }
      try command.run()
      return 0
    } catch let error as GlimpseError {
      reportError("glimpse: error: \(error.description)")
      return ExitStatus.badInput
    } catch let error as CommandFailure {
      reportError("glimpse: error: \(error.message)")
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
}

/// Exit statuses of `glimpse` (sysexits.h where one fits).
enum ExitStatus {
  /// Bad data or files (EX_DATAERR).
  static let badInput: Int32 = 65
  /// Some items of a batch were skipped; the rest succeeded.
  static let partial: Int32 = 3
}

/// A failure of the command itself (not of the data), with its exit status.
struct CommandFailure: Error {
  var message: String
  var status: Int32 = 1
}

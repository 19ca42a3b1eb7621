import ArgumentParser
import Glibc
import GlimpseCore
import GlimpseData

/// `glimpse-bench STAGE`: times one stage for `make bench` and prints `stage<TAB>seconds`.
///
/// A developer tool, not part of the user's `glimpse` binary. Stages are grouped by family, one
/// file each (`PipelineStages`, `ClassifierStages`, `CNNStages`, `ValuationStages`,
/// `ExplainStages`, `ONNXStages`); `.ci/bench` and the `.ci/bench-*.sh` sections run them beside the Python
/// references.
@main
struct GlimpseBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "glimpse-bench",
    abstract: "Time a Glimpse stage (used by make bench); prints stage<TAB>seconds.")

  /// Every stage by name; each returns its seconds (most: a median over `context.repeats`).
  static var stages: [String: (BenchContext) throws -> Double] {
    [
      PipelineStages.all, ClassifierStages.all, CNNStages.all, ValuationStages.all,
      ExplainStages.all, AttributionStages.all, ONNXStages.all, GradientStages.all,
    ]
    .reduce(into: [:]) { all, family in all.merge(family) { first, _ in first } }
  }

  @Argument(help: "The stage to time.")
  var stageName: String

  @Option(help: "The samples folder.")
  var samples = "samples"

  @Option(help: "Repeats; the median is reported.")
  var repeats = 7

  @Option(help: "OpenBLAS threads.")
  var threads = 1

  /// Runs one stage; any failure is one line on standard error and a non-zero exit status
  /// (64 for a usage error, 1 otherwise), never a trap or a usage page.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      let status = exitCode(for: error)
      // --help and --version are not failures: their text goes to standard output.
      guard status != .success else {
        print(fullMessage(for: error))
        Glibc.exit(0)
      }
      writeToStandardError("glimpse-bench: error: \(quoted(message(for: error), limit: 1000))\n")
      Glibc.exit(status.rawValue)
    }
  }

  func run() throws {
    guard let stage = Self.stages[stageName] else {
      throw ValidationError(
        "unknown stage '\(stageName)'; known: \(Self.stages.keys.sorted().joined(separator: ", "))")
    }
    // A benchmark process runs one stage at one setting: the process-wide count is the setting.
    BLAS.setThreadCount(threads)
    let context = BenchContext(samples: samples, repeats: repeats, threads: threads)
    print("\(stageName)\t\(try stage(context))")
  }
}

/// A stage that cannot run (missing data, a wrong thread setting): one line, exit status 1.
struct BenchFailure: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// What a bench stage gets: where the samples are, how often to repeat, and shared helpers.
struct BenchContext {
  var samples: String
  var repeats: Int
  var threads: Int

  var imagesPath: String { "\(samples)/mnist/mnist-imgs-mini.csv.bz2" }
  var labelsPath: String { "\(samples)/mnist/mnist-lbls-mini.csv.bz2" }
  var splitPath: String { "\(samples)/mnist/split.json" }

  var readOptions: ReadOptions {
    var options = ReadOptions()
    options.labelsPath = labelsPath
    return options
  }

  /// The anchors' split file (1000 training and 1000 test rows of the 5000 digits).
  func split() throws -> SplitFile {
    try SplitFile.decode(FileBytes.readRaw(splitPath), path: splitPath)
  }

  /// The 5000 sample digits, pixels / 255, and the anchors' split file.
  func digitsAndSplit() throws -> (Dataset, SplitFile) {
    (try TableDatasetReader.read(imagesPath, options: readOptions), try split())
  }

  /// The anchors' split: 1000 training and 1000 test digits, pixels / 255.
  func anchorSplit() throws -> (train: Dataset, test: Dataset) {
    let (data, split) = try digitsAndSplit()
    return (data.subset(split.train), data.subset(split.test))
  }

  /// The median of `repeats` timings of `body`, in seconds.
  func median(_ body: () throws -> Void) throws -> Double { try Self.median(repeats, body) }

  /// The median of `count` (at least 1) timings of `body`, in seconds.
  static func median(_ count: Int, _ body: () throws -> Void) throws -> Double {
    var times: [Double] = []
    for _ in 0..<max(count, 1) {
      let started = monotonicSeconds()
      try body()
      times.append(monotonicSeconds() - started)
    }
    times.sort()
    return times[times.count / 2]
  }
}

/// With `GLIMPSE_BENCH_PHASES` set, the whole-process stages write each phase's seconds to
/// stderr (where the time goes, without a profiler); stdout stays `stage<TAB>seconds`.
final class PhaseClock {
  private var last: Double
  private let enabled = getenv("GLIMPSE_BENCH_PHASES") != nil

  init(started: Double) { last = started }

  func mark(_ phase: String) {
    let now = monotonicSeconds()
    if enabled { writeToStandardError("\(phase)\t\(formatFixed(now - last, digits: 4))\n") }
    last = now
  }
}

/// Writes `text` to standard error as it is.
func writeToStandardError(_ text: String) {
  let bytes = Array(text.utf8)
  _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

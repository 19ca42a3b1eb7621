import ArgumentParser
import GlimpseCore
import GlimpseData

/// `glimpse bench STAGE`: times one stage for `make bench` (tab-separated `stage seconds`).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time a pipeline stage (used by make bench).",
    shouldDisplay: false)

  enum Stage: String, CaseIterable, ExpressibleByArgument {
    case readCSV = "read-csv"
    case decompressBZ2 = "decompress-bz2"
    case parseCSV = "parse-csv"
  }

  @Argument(help: "The stage to time.")
  var stage: Stage

  @Option(help: "The samples folder.")
  var samples = "samples"

  @Option(help: "Repeats; the median is reported.")
  var repeats = 7

  @Option(help: "OpenBLAS threads.")
  var threads = 1

  func run() throws {
    BLAS.setThreadCount(threads)
    switch stage {
    case .readCSV:
      var options = ReadOptions()
      options.labelsPath = "\(samples)/mnist/mnist-lbls-mini.csv.bz2"
      let seconds = try median(repeats) {
        _ = try TableDatasetReader.read("\(samples)/mnist/mnist-imgs-mini.csv.bz2", options: options)
      }
      print("read-csv\t\(seconds)")
    case .decompressBZ2:
      let seconds = try median(repeats) {
        _ = try FileBytes.read("\(samples)/mnist/mnist-imgs-mini.csv.bz2")
      }
      print("decompress-bz2\t\(seconds)")
    case .parseCSV:
      let bytes = try FileBytes.read("\(samples)/mnist/mnist-imgs-mini.csv.bz2")
      let seconds = try median(repeats) {
        _ = try CSVReader.parse(bytes, path: "mnist-imgs-mini.csv")
      }
      print("parse-csv\t\(seconds)")
    }
  }

  private func median(_ count: Int, _ body: () throws -> Void) throws -> Double {
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

import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

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
    case svmFit = "svm-fit"
    case svmPredictProba = "svm-predict-proba"
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
    let images = "\(samples)/mnist/mnist-imgs-mini.csv.bz2"
    var options = ReadOptions()
    options.labelsPath = "\(samples)/mnist/mnist-lbls-mini.csv.bz2"
    let seconds: Double
    switch stage {
    case .readCSV:
      seconds = try median(repeats) { _ = try TableDatasetReader.read(images, options: options) }
    case .decompressBZ2:
      seconds = try median(repeats) { _ = try FileBytes.read(images) }
    case .parseCSV:
      let bytes = try FileBytes.read(images)
      seconds = try median(repeats) { _ = try CSVReader.parse(bytes, path: "mnist-imgs-mini.csv") }
    case .svmFit, .svmPredictProba:
      let (train, test) = try anchorSplit(images, options)
      var rng = SeededGenerator(seed: 0)
      let model = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
      if stage == .svmFit {
        seconds = try median(repeats) {
          var rng = SeededGenerator(seed: 0)
          _ = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
        }
      } else {
        seconds = try median(repeats) { _ = model.predictProbabilities(test.features) }
      }
    }
    print("\(stage.rawValue)\t\(seconds)")
  }

  /// The anchors' split: 1000 training and 1000 test digits, pixels / 255.
  private func anchorSplit(_ images: String, _ options: ReadOptions) throws -> (Dataset, Dataset) {
    let data = try TableDatasetReader.read(images, options: options)
    let split = try SplitFile.read("\(samples)/mnist/split.json")
    return (data.subset(split.train), data.subset(split.test))
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

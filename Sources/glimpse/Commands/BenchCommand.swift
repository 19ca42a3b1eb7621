import ArgumentParser
import Glibc
import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseSegmentation

/// `glimpse bench STAGE`: times one stage for `make bench` (tab-separated `stage seconds`).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Time a pipeline stage (used by make bench).",
    shouldDisplay: false)

  /// Stages beyond the pipeline ones, each family in its own file (`BenchCommand+*.swift`).
  static var extraStages: [String: (BenchContext) throws -> Double] {
    classifierStages.merging(cnnStages) { a, _ in a }.merging(valuationStages) { a, _ in a }.merging(explainStages) { a, _ in a }
  }

  enum Stage: String, CaseIterable {
    case readCSV = "read-csv"
    case decompressBZ2 = "decompress-bz2"
    case parseCSV = "parse-csv"
    case svmFit = "svm-fit"
    case svmPredictProba = "svm-predict-proba"
    case limeDigit = "lime-digit"
    case wholeProcess = "whole-process"
    case slic512 = "slic-512"
  }

  @Argument(help: "The stage to time.")
  var stageName: String

  @Option(help: "The samples folder.")
  var samples = "samples"

  @Option(help: "Repeats; the median is reported.")
  var repeats = 7

  @Option(help: "OpenBLAS threads.")
  var threads = 1

  func run() throws {
    BLAS.setThreadCount(threads)
    if let extra = Self.extraStages[stageName] {
      let context = BenchContext(samples: samples, repeats: repeats, threads: threads)
      print("\(stageName)\t\(try extra(context))")
      return
    }
    guard let stage = Stage(rawValue: stageName) else {
      let known = Stage.allCases.map(\.rawValue) + Self.extraStages.keys.sorted()
      throw ValidationError("unknown stage '\(stageName)'; known: \(known.joined(separator: ", "))")
    }
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
    case .limeDigit:
      let explainOneDigit = try limeSetup(images, options)
      seconds = try median(repeats) { explainOneDigit() }
    case .wholeProcess:
      // As `lime_anchor.py --one`: load the table, fit the SVM, scan the 1000 test digits,
      // explain the first ambiguous one with the six segmenters, exit.
      let started = monotonicSeconds()
      try limeSetup(images, options, phases: PhaseClock(started: started))()
      seconds = monotonicSeconds() - started
    case .slic512:
      let photo = try ImageFileFormat.decode(FileBytes.readRaw("\(samples)/photos/astronaut.png"))
      let segmenter = try SegmenterSpec(kind: .slic, parameters: [250, 10, 0, 10, 1]).makeSegmenter()
      seconds = try median(repeats) { _ = segmenter.segment(photo) }
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

  /// Reads the anchor split, fits the SVM, picks the first ambiguous test digit, and returns
  /// the timed work: its explanation with the six seed segmenters, 500 samples each.
  private func limeSetup(
    _ images: String, _ options: ReadOptions, phases: PhaseClock? = nil
  ) throws -> () -> Void {
    let (train, test) = try anchorSplit(images, options, phases: phases)
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
    phases?.mark("fit")
    let (image, labels) = firstAmbiguous(model, test)
    phases?.mark("scan")
    let segmenters = try SegmenterSpec.seedDefaults.map { spec throws(SegmenterSpecError) in try spec.makeSegmenter() }
    var explainer = LimeImageExplainer()
    explainer.sampleCount = 500
    return {
      _ = CombinedExplanation.explain(
        image, segmenters: segmenters, labels: labels, explainer: explainer, seed: 0, classifier: model)
      phases?.mark("explain")
    }
  }

  /// The first test digit the seed rule finds ambiguous (or the closest call), and its top two.
  private func firstAmbiguous(_ model: SVMClassifier, _ test: Dataset) -> (Image, [Int]) {
    let (probabilities, votes) = model.predictProbabilitiesAndVotes(test.features)
    let ranked = AmbiguityFinder.rank(probabilities, truth: test.labels, votes: votes)
    let pick = AmbiguityFinder.find(ranked, matching: .seedRule).first
      ?? AmbiguityFinder.find(ranked, matching: AmbiguityQuery())[0]
    let shape = test.imageShape ?? ImageShape(height: 28, width: 28)
    return (Image(shape: shape, pixels: test.values(ofRow: pick.row)), [pick.first, pick.second])
  }

  /// The anchors' split: 1000 training and 1000 test digits, pixels / 255.
  private func anchorSplit(
    _ images: String, _ options: ReadOptions, phases: PhaseClock? = nil
  ) throws -> (Dataset, Dataset) {
    // The same work as `TableDatasetReader.read(images, options:)`, in two steps to time them.
    let bytes = try FileBytes.read(images)
    phases?.mark("decompress")
    let data = try TableDatasetReader.read(images, bytes: bytes, options: options)
    phases?.mark("parse")
    let split = try SplitFile.read("\(samples)/mnist/split.json")
    phases?.mark("split-json")
    defer { phases?.mark("subset") }
    return (data.subset(split.train), data.subset(split.test))
  }

  private func median(_ count: Int, _ body: () throws -> Void) throws -> Double {
    try BenchContext.median(count, body)
  }
}

/// What a bench stage gets: where the samples are, how often to repeat, and shared helpers.
struct BenchContext {
  var samples: String
  var repeats: Int
  var threads: Int

  var imagesPath: String { "\(samples)/mnist/mnist-imgs-mini.csv.bz2" }

  var readOptions: ReadOptions {
    var options = ReadOptions()
    options.labelsPath = "\(samples)/mnist/mnist-lbls-mini.csv.bz2"
    return options
  }

  /// The 5000 sample digits, pixels / 255, and the anchors' split file.
  func digitsAndSplit() throws -> (Dataset, SplitFile) {
    let data = try TableDatasetReader.read(imagesPath, options: readOptions)
    return (data, try SplitFile.read("\(samples)/mnist/split.json"))
  }

  /// The median of `repeats` timings of `body`, in seconds.
  func median(_ body: () throws -> Void) throws -> Double { try Self.median(repeats, body) }

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

/// With `GLIMPSE_BENCH_PHASES` set, the whole-process stage writes each phase's seconds to
/// stderr (where the time goes, without a profiler); stdout stays `stage<TAB>seconds`.
final class PhaseClock {
  private var last: Double
  private let enabled = getenv("GLIMPSE_BENCH_PHASES") != nil

  init(started: Double) { last = started }

  func mark(_ phase: String) {
    let now = monotonicSeconds()
    if enabled { printError("\(phase)\t\(formatFixed(now - last, digits: 4))") }
    last = now
  }
}

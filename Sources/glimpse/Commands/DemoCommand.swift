import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// `glimpse demo`: the main job on the bundled samples; grows as capabilities land.
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run Glimpse on the bundled samples and write PNGs to the output folder.")

  @Option(help: "The samples folder.")
  var samples = "samples"

  @Option(help: "Where to write the pictures.")
  var output = "output"

  func run() throws {
    let mnist = "\(samples)/mnist/mnist-imgs-mini.csv.bz2"
    var options = ReadOptions()
    options.labelsPath = "\(samples)/mnist/mnist-lbls-mini.csv.bz2"

    print("1. The 5000 MNIST digits (pandas CSV, bzip2), with their label table")
    var started = monotonicSeconds()
    let digits = try TableDatasetReader.read(mnist, options: options)
    print("   read in \(formatDuration(monotonicSeconds() - started))")
    for line in DatasetSummary.lines(digits, name: mnist) { print("   " + line) }
    try writeSheet(digits, title: "MNIST sample: 49 of \(digits.count) digits", name: "mnist-contact")

    print("2. The same kind of digits as an image folder (PNG files)")
    started = monotonicSeconds()
    let folder = try ImageFolderReader.read("\(samples)/digits")
    print("   read in \(formatDuration(monotonicSeconds() - started))")
    reportSkipped(folder.skipped)
    for line in DatasetSummary.lines(folder.dataset, name: "\(samples)/digits") {
      print("   " + line)
    }
    try writeSheet(
      folder.dataset, title: "samples/digits: \(folder.dataset.count) PNG files",
      name: "digits-contact")

    print("3. An SVM (RBF, C = 1, Platt probabilities) on the 1000 training digits of the anchor split")
    let split = try SplitFile.read("\(samples)/mnist/split.json")
    let train = digits.subset(split.train), test = digits.subset(split.test)
    started = monotonicSeconds()
    var rng = SeededGenerator(seed: 0)
    let svm = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
    print("   fitted in \(formatDuration(monotonicSeconds() - started)); \(svm.supportIndices.count) support vectors")
    let (lines, report) = ModelReport.lines(svm, on: test, name: "1000 test digits")
    for line in lines { print("   " + line) }
    let confusion = "\(output)/svm-confusion.png"
    try AtomicFile.write(
      ModelReport.confusionPNG(
        report, classNames: svm.classNames,
        title: "SVM on 1000 test digits: accuracy \(formatFixed(report.accuracy * 100, digits: 1)) %"),
      to: confusion)
    print("   wrote \(confusion)")
    print("Done: pictures are in \(output)/")
  }

  private func writeSheet(_ dataset: Dataset, title: String, name: String) throws {
    guard let png = try DatasetSummary.contactSheet(dataset, title: title, seed: 0, polarity: .auto)
    else { return }
    let path = "\(output)/\(name).png"
    try AtomicFile.write(png, to: path)
    print("   wrote \(path)")
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseRender
import GlimpseSegmentation
import GlimpseValuation

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
    try writeSheet(
      digits, title: "MNIST sample: 49 of \(digits.count) digits", name: "mnist-contact")

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

    print(
      "3. An SVM (RBF, C = 1, Platt probabilities) on the 1000 training digits of the anchor split")
    let split = try SplitFile.read("\(samples)/mnist/split.json")
    let train = digits.subset(split.train)
    let test = digits.subset(split.test)
    started = monotonicSeconds()
    var rng = SeededGenerator(seed: 0)
    let svm = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
    print(
      "   fitted in \(formatDuration(monotonicSeconds() - started)); \(svm.supportIndices.count) support vectors"
    )
    let (lines, report) = ModelReport.lines(svm, on: test, name: "1000 test digits")
    for line in lines { print("   " + line) }
    let confusion = "\(output)/svm-confusion.png"
    try AtomicFile.write(
      ModelReport.confusionPNG(
        report, classNames: svm.classNames,
        title:
          "SVM on 1000 test digits: accuracy \(formatFixed(report.accuracy * 100, digits: 1)) %"),
      to: confusion)
    print("   wrote \(confusion)")
    let modelPath = "\(output)/svm.glimpse"
    try save(svm, imageShape: digits.imageShape, to: modelPath)

    // From here on every step (explanations, the texture SVM, the CNN, valuation) runs on all
    // cores with BLAS calls in each thread: OpenBLAS stays at one thread until the demo ends.
    SingleThreadedBLAS.shared.enter()
    defer { SingleThreadedBLAS.shared.leave() }
    print("4. Where the SVM hesitates: test digits whose truth is its runner-up (the seed rule)")
    let (probabilities, votes) = svm.predictProbabilitiesAndVotes(test.features)
    let ranked = AmbiguityFinder.rank(probabilities, truth: test.labels, votes: votes)
    let ambiguous = AmbiguityFinder.find(ranked, matching: .seedRule)
    print(
      "   \(ambiguous.count) of \(test.count) test digits qualify; explaining the \(min(4, ambiguous.count)) closest calls"
    )
    let explanationOptions = try ExplanationOptions.parse(["--samples", "500", "--seed", "0"])
    let job = try ExplanationJob(modelPath: modelPath, options: explanationOptions)
    started = monotonicSeconds()
    try explain(ambiguous.prefix(4).map(\.row), of: test, with: job) {
      "\(output)/explanations/row-\(split.test[$0]).png"
    }
    print(
      "   6 segmenters × 500 samples each, \(formatDuration((monotonicSeconds() - started) / Double(max(min(4, ambiguous.count), 1)))) per digit"
    )
    print("   gallery: \(try Gallery.write(folder: "\(output)/explanations"))")
    if let first = ambiguous.first {
      let image = Image(
        shape: test.imageShape ?? ImageShape(height: 28, width: 28),
        pixels: test.values(ofRow: first.row))
      let compared = try job.explain(
        image, source: test.sources[first.row], truth: test.classNames[test.labels[first.row]],
        layout: ExplanationFigure.Layout.rows)
      try job.write(compared, to: "\(output)/compare-segmenters.png")
      print("   wrote \(output)/compare-segmenters.png (one row per segmenter)")
    }

    let photo = "\(samples)/photos/astronaut.png"
    if let bytes = try? FileBytes.readRaw(photo), let picture = try? ImageFileFormat.decode(bytes) {
      print("5. SLIC on a 512 × 512 colour photo (scikit-image's defaults, 250 segments)")
      let spec = SegmenterSpec(kind: .slic, parameters: [250, 10, 0, 10, 1])
      let segmenter = try spec.makeSegmenter()
      started = monotonicSeconds()
      let segments = segmenter.segment(picture)
      print("   \(segments.count) segments in \(formatDuration(monotonicSeconds() - started))")
      let png = try SegmentationFigure(
        image: picture, segments: segments,
        title: "astronaut: \(spec) → \(segments.count) segments", invert: false
      ).pngData()
      try AtomicFile.write(png, to: "\(output)/slic-astronaut.png")
      print("   wrote \(output)/slic-astronaut.png")
    }
    print(
      "6. Which training digits hurt: KNN-Shapley on the anchor split with 10 % of the labels flipped"
    )
    let value = try ValueRunCommand.parse([
      mnist, "--labels", "\(samples)/mnist/mnist-lbls-mini.csv.bz2", "--split",
      "\(samples)/mnist/split.json",
      "--noisy", "--validation-rows", "500", "--method", "knn", "--out", "\(output)/values-knn.csv",
      "--sheet", "\(output)/values-sheet.png", "--removal-curve", "\(output)/values-removal.png",
    ])
    try value.run()
    try audit(digits, split: split, mnist: mnist)
    try textures()
    try colourCNN()
    print("Done: pictures are in \(output)/")
  }

  /// Step 6b: `glimpse audit` of the 5000 digits, with the anchor split's noisy labels (10 %
  /// of the 1000 training digits flipped) as a second annotator.
  private func audit(_ digits: Dataset, split: SplitFile, mnist: String) throws {
    print(
      "6b. Audit of the 5000 digits: the noisy anchor labels as annotator B, duplicates, label issues from 5-fold logistic regression"
    )
    guard let noisy = split.noisy else { return }
    var second = digits.labels.map { digits.classNames[$0] }
    for (position, row) in split.train.enumerated() {
      second[row] = String(noisy.trainLabelsNoisy[position])
    }
    let labelsB = "\(output)/audit-labels-b.csv"
    try AtomicFile.write(
      CSVWriter.text(
        header: ["index", "label"], rows: second.enumerated().map { ["\($0)", $1] }),
      to: labelsB)
    let command = try AuditCommand.parse([
      mnist, "--labels", "\(samples)/mnist/mnist-lbls-mini.csv.bz2", "--labels-b", labelsB,
      // Out-of-fold probabilities, so the review queue fuses confident learning's ranking
      // with the annotators' disagreement instead of listing disagreements in row order.
      "--folds", "5", "--model", "logistic", "--out", "\(output)/audit",
    ])
    try command.run()
  }

  /// Step 7: images at a real size. 224×224 grey texture patches, a linear SVM on their pixels,
  /// the closest calls explained with the segmenters chosen for that size.
  private func textures() throws {
    let folder = "\(samples)/textures"
    guard isDirectoryPath(folder) else { return }
    print("7. Images at a real size: 224 × 224 grey texture patches (brick, grass, gravel)")
    var started = monotonicSeconds()
    let reading = try ImageFolderReader.read(folder)
    reportSkipped(reading.skipped)
    let patches = reading.dataset
    print("   \(patches.count) patches read in \(formatDuration(monotonicSeconds() - started))")
    try writeSheet(
      patches, title: "samples/textures: \(patches.count) patches of 224 × 224",
      name: "textures-contact")
    // Two thirds train, a third tests, by a seeded shuffle (every class on both sides).
    var rng = SeededGenerator(seed: 0)
    let rows = patches.shuffledRows(trainCount: patches.count * 2 / 3, using: &rng)
    let train = patches.subset(rows.train)
    let test = patches.subset(rows.test)
    var hyperparameters = SVMClassifier.Hyperparameters()
    hyperparameters.kernel = .linear
    started = monotonicSeconds()
    let svm = try SVMClassifier.fit(train, hyperparameters: hyperparameters, using: &rng)
    print(
      "   linear SVM on \(train.count) patches (\(train.featureCount) pixels each) fitted in \(formatDuration(monotonicSeconds() - started))"
    )
    let (lines, _) = ModelReport.lines(svm, on: test, name: "\(test.count) test patches")
    for line in lines { print("   " + line) }
    let modelPath = "\(output)/textures-svm.glimpse"
    let bytes = try save(svm, imageShape: patches.imageShape, to: modelPath)
    print("   wrote \(modelPath) (\(bytes / 1024) KB: 8-bit support vectors)")
    let (probabilities, votes) = svm.predictProbabilitiesAndVotes(test.features)
    let ranked = AmbiguityFinder.rank(probabilities, truth: test.labels, votes: votes)
    let job = try ExplanationJob(
      modelPath: modelPath,
      options: try ExplanationOptions.parse(["--samples", "500", "--seed", "0"]))
    started = monotonicSeconds()
    // The two closest calls: the smallest gaps between the first and second class.
    let closest = ranked.sorted(by: { $0.margin < $1.margin }).prefix(2).map(\.row)
    try explain(closest, of: test, with: job) {
      "\(output)/textures/\(fileStem(test.sources[$0])).png"
    }
    print(
      "   \(formatDuration((monotonicSeconds() - started) / 2)) per patch; gallery: \(try Gallery.write(folder: "\(output)/textures"))"
    )
  }

  /// Step 8: a CNN at a real size. 128×128 colour patches of four photos, the residual network
  /// with the large-image recipe, its closest calls explained, and the training patches valued
  /// on the network's embeddings with a few labels flipped.
  private func colourCNN() throws {
    let folder = "\(samples)/colour"
    guard isDirectoryPath(folder) else { return }
    print("8. A CNN on 128 × 128 colour patches (astronaut, cat, coffee, retina)")
    let reading = try ImageFolderReader.read(folder)
    reportSkipped(reading.skipped)
    let patches = reading.dataset
    try writeSheet(
      patches, title: "samples/colour: \(patches.count) patches of 128 × 128",
      name: "colour-contact")
    var rng = SeededGenerator(seed: 0)
    let rows = patches.shuffledRows(trainCount: patches.count * 2 / 3, using: &rng)
    let train = patches.subset(rows.train)
    let test = patches.subset(rows.test)
    guard let shape = patches.imageShape else { return }
    let architecture = Architecture.defaultArchitecture(for: shape)
    let recipe = CNNClassifier.Hyperparameters.recipe(for: architecture)
    if let cost = architecture.cost(input: shape, classes: patches.classNames.count) {
      print(
        "   \(architecture.rawValue): \(cost.parameters) parameters, \(formatFixed(Double(cost.multiplyAdds) / 1e6, digits: 1)) M multiply-adds per image; up to \(recipe.epochs) epochs, crop-and-flip augmentation, early stopping on a validation split"
      )
    }
    var started = monotonicSeconds()
    let cnn = try CNNClassifier.fit(train, hyperparameters: recipe, using: &rng, progress: { _ in })
    let kept =
      cnn.keptEpoch.map { "kept epoch \($0) of \(cnn.history.count)" }
      ?? "\(cnn.history.count) epochs"
    print(
      "   trained on \(train.count) patches in \(formatDuration(monotonicSeconds() - started)) (\(kept))"
    )
    let (lines, _) = ModelReport.lines(cnn, on: test, name: "\(test.count) test patches")
    for line in lines { print("   " + line) }
    let modelPath = "\(output)/colour-cnn.glimpse"
    let bytes = cnn.archive().encoded()
    try AtomicFile.write(bytes, to: modelPath)
    print("   wrote \(modelPath) (\(bytes.count / 1024) KB)")

    let probabilities = cnn.predictProbabilities(test.features)
    let ranked = AmbiguityFinder.rank(probabilities, truth: test.labels)
    let job = try ExplanationJob(
      modelPath: modelPath, options: try ExplanationOptions.parse(["--seed", "0"]))
    started = monotonicSeconds()
    let closest = ranked.sorted(by: { $0.margin < $1.margin }).prefix(2).map(\.row)
    try explain(closest, of: test, with: job) {
      "\(output)/colour/\(fileStem(test.sources[$0])).png"
    }
    print(
      "   6 segmenters × 1000 samples, \(formatDuration((monotonicSeconds() - started) / 2)) per patch; gallery: \(try Gallery.write(folder: "\(output)/colour"))"
    )

    // Which training patches hurt: flip the labels of a tenth of them, value every training
    // patch by KNN-Shapley on the CNN's embeddings (the test patches as validation).
    var noisy = train
    let flipCount = max(1, train.count / 10)
    let flipped: [Bool]
    (noisy.labels, flipped) = LabelNoise.flipped(
      train.labels, classCount: train.classNames.count, flipCount: flipCount, using: &rng)
    let embedded = Dataset(
      features: cnn.embed(noisy.features), labels: noisy.labels, classNames: noisy.classNames,
      sources: noisy.sources)
    let validation = Dataset(
      features: cnn.embed(test.features), labels: test.labels, classNames: test.classNames,
      sources: test.sources)
    let values = try KNNShapley(k: 5).values(training: embedded, validation: validation)
    let detection = NoiseDetection(values: values.values, bad: flipped)
    print(
      "   KNN-Shapley on \(cnn.embeddingSize)-dimensional embeddings, \(flipCount) of \(train.count) training labels flipped: \(detection.lowestTenPercentHits) of the \(detection.lowestTenPercentCount) lowest-valued patches are flipped (ROC AUC \(formatFixed(detection.rocAUC, digits: 3)))"
    )
    let sheet = try ValueFigures.sheet(
      values, training: noisy, dataPath: folder, flipped: flipped, cleanLabels: train.labels,
      count: 6, title: "Colour patches valued on CNN embeddings (KNN-Shapley)")
    try AtomicFile.write(sheet, to: "\(output)/colour-values.png")
    print("   wrote \(output)/colour-values.png")
  }

  /// Saves `model` with the image shape its rows have; returns the file's size in bytes.
  @discardableResult
  private func save(_ model: SVMClassifier, imageShape: ImageShape?, to path: String) throws -> Int
  {
    var archive = model.archive()
    archive.imageShape = imageShape
    let bytes = archive.encoded()
    try AtomicFile.write(bytes, to: path)
    return bytes.count
  }

  /// Explains `rows` of `data` (images at the model's shape) and writes each figure where
  /// `path(row)` says.
  private func explain(
    _ rows: [Int], of data: Dataset, with job: ExplanationJob, path: (Int) -> String
  ) throws {
    for row in rows {
      guard let shape = data.imageShape else { return }
      let image = Image(shape: shape, pixels: data.values(ofRow: row))
      let truth = data.classNames[data.labels[row]]
      let explained = try job.explain(image, source: data.sources[row], truth: truth)
      try job.write(explained, to: path(row))
      print("   \(path(row)): \(explained.summary), truth \(truth)")
    }
  }

  private func writeSheet(_ dataset: Dataset, title: String, name: String) throws {
    guard let png = try DatasetSummary.contactSheet(dataset, title: title, seed: 0, polarity: .auto)
    else { return }
    let path = "\(output)/\(name).png"
    try AtomicFile.write(png, to: path)
    print("   wrote \(path)")
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// `glimpse train DATA --model svm --out model.glimpse`.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a classifier on a dataset and save it.",
    discussion: """
      Train on all of DATA, or split it: --split FILE (JSON {"train": [rows], "test": [rows]}, \
      e.g. samples/mnist/split.json) or --train-size N (a seeded random N rows; the rest is the \
      test set); or evaluate on a separate --test DATA. Prints fit time and accuracy.

      Models (--model): svm, an RBF C-SVC with Platt probabilities (--c, --kernel, --gamma, \
      --degree, --coef0, --tol, --no-probability); logistic, multinomial logistic regression \
      (--c, --max-iterations, --tol); knn, k nearest neighbours (--k); cnn, a small \
      convolutional network for image data (--architecture, --epochs, --batch-size, \
      --learning-rate, --augment, --validation-fraction, --patience, --class-weights, \
      --schedule).

      A CNN trains with its architecture's recipe; the flags override parts of it. \
      --augment none|shift|crop-flip varies the images each epoch (shift: ±2 pixels, for \
      digits; crop-flip: a random crop of the image padded by 1/8 of its side with zeros, \
      then a left-right flip half of the time, for photographs and scans). \
      --validation-fraction F holds out F of each class (seeded, stratified) and keeps the \
      weights of the epoch with the lowest validation loss; --patience N stops training after \
      N epochs without a lower one. --class-weights balanced weights each class by \
      n / (classes · n_class) in the loss (scikit-learn's "balanced", PyTorch's weighted \
      mean), for imbalanced classes. --schedule constant|cosine|step sets how the learning \
      rate falls (cosine: to 0 over all steps; step: ×0.1 after each third of the epochs). \
      The digit recipes (seed, standard) hold nothing out and weight no class; seed does not \
      augment, standard shifts.

      The live bar shows epoch, batch, the epoch's running loss and accuracy, the last \
      validation loss and accuracy, and the ETA; the report lists every epoch and, with a \
      validation split, which epoch was kept and why training stopped.
      """)

  @OptionGroup var dataOptions: DataOptions
  @OptionGroup var modelOptions: ModelOptions

  @Option(help: "Where to save the model.")
  var out: String

  @Option(help: "A JSON file with \"train\" and \"test\" row numbers of DATA.")
  var split: String?

  @Option(help: "Train on a seeded random subset of this many rows; test on the rest.")
  var trainSize: Int?

  @Option(help: "A separate labelled test set (read like DATA).")
  var test: String?

  @Option(help: "The test set's label table, when it has one.")
  var testLabels: String?

  @Option(help: "Seed for the split and for the model's randomness.")
  var seed: UInt64 = 0

  @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
  var threads: Int?

  func validate() throws {
    let ways = [split != nil, trainSize != nil, test != nil].filter { $0 }.count
    if ways > 1 { throw ValidationError("choose one of --split, --train-size and --test") }
    if let trainSize, trainSize < 2 { throw ValidationError("--train-size must be at least 2") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  /// DATA split into training rows and a test set (or all of DATA and no test set). DATA
  /// itself is released on return, before training: a split copies its rows, and 10 000 colour
  /// 224×224 images are 1.5 GB even as 8-bit codes, which training need not hold twice.
  private func trainingAndTestSets() throws -> (Dataset, (data: Dataset, name: String)?) {
    let data = try dataOptions.load().dataset
    if let split {
      let file = try SplitFile.read(split)
      try file.check(rows: data.count, path: split)
      return (data.subset(file.train), (data.subset(file.test), "test (\(split))"))
    } else if let trainSize {
      let rows: (train: Dataset, test: Dataset)
      do {
        rows = try data.randomSplit(trainCount: trainSize, seed: seed)
      } catch {
        throw CommandFailure(
          message: "--train-size \(trainSize) leaves no test rows (DATA has \(data.count))",
          status: 64)
      }
      return (rows.train, (rows.test, "test (the other \(data.count - trainSize) rows)"))
    } else if let test {
      var options = dataOptions.readOptions
      options.labelsPath = testLabels
      options.minimumClassCount = 1
      let read = try DatasetReader.read(test, options: options)
      reportSkipped(read.skipped)
      return (data, (try read.dataset.aligned(to: data.classNames, path: test), "test (\(test))"))
    }
    return (data, nil)
  }

  func run() throws {
    if let threads { BLAS.setThreadCount(threads) }
    let (train, testSet) = try trainingAndTestSets()
    print(
      "training \(modelOptions.model.rawValue) on \(train.count) rows, \(train.featureCount) features, \(train.classNames.count) classes (BLAS threads: \(BLAS.threadCount))"
    )
    let recipe =
      modelOptions.model == .cnn ? try modelOptions.cnnHyperparameters(for: train.imageShape) : nil
    if let recipe {
      print("  recipe: \(Self.describe(recipe))")
      if let shape = train.imageShape,
        let cost = recipe.architecture.cost(input: shape, classes: train.classNames.count)
      {
        print(
          "  network: \(cost.parameters) parameters, \(formatFixed(Double(cost.multiplyAdds) / 1e6, digits: 1)) M multiply-adds per \(shape.height)×\(shape.width) image"
        )
      }
    }
    let bar = ProgressBar(total: 1000, label: "fit")
    let started = monotonicSeconds()
    let model: any Classifier
    do {
      if let recipe {
        // The CNN reports epoch, loss and accuracy after every batch: show them live.
        var rng = SeededGenerator(seed: seed)
        model = try CNNClassifier.fit(train, hyperparameters: recipe, using: &rng) { progress in
          bar.update(Int(progress.fractionDone * 1000), detail: Self.describe(progress))
        }
      } else {
        model = try modelOptions.fit(train, seed: seed) { bar.update(Int($0 * 1000)) }
      }
    } catch ModelError.unsuitableData(let reason) {
      // Name the data the model could not learn from (the split's train rows, or DATA).
      bar.finish()
      throw FileContentError(
        path: split ?? dataOptions.data,
        reason:
          "cannot train on \(split == nil ? "it" : "its train rows of \(dataOptions.data)"): \(reason)"
      )
    }
    let fitTime = monotonicSeconds() - started
    bar.finish()
    print("  fitted in \(formatDuration(fitTime))")
    if let cnn = model as? CNNClassifier {
      for line in Self.historyLines(cnn) { print(line) }
    }
    if let svm = model as? SVMClassifier {
      print(
        "  support vectors: \(svm.supportIndices.count) (per class \(svm.supportCountsPerClass.map(String.init).joined(separator: " ")))"
      )
    }
    for line in ModelReport.lines(model, on: train, name: "  train").lines { print(line) }
    if let testSet {
      for line in ModelReport.lines(model, on: testSet.data, name: "  \(testSet.name)").lines {
        print(line)
      }
    }
    var archive = model.archive()
    archive.imageShape = train.imageShape
    try AtomicFile.write(archive.encoded(), to: out)
    print("  saved \(out)")
  }

  /// The progress bar's status for a CNN: `epoch 3/10  batch 12/57  loss 0.1234  accuracy
  /// 0.9612`, the epoch's running figures (batch-weighted means so far, as Keras shows them),
  /// then the last finished epoch's validation figures when there is a split.
  static func describe(_ progress: CNNClassifier.TrainingProgress) -> String {
    var text =
      "epoch \(progress.epoch)/\(progress.epochs)  batch \(progress.batch)/\(progress.batches)  loss \(formatFixed(progress.loss, digits: 4))  accuracy \(formatFixed(progress.accuracy, digits: 4))"
    if let loss = progress.validationLoss, let accuracy = progress.validationAccuracy {
      text +=
        "  | validation loss \(formatFixed(loss, digits: 4))  accuracy \(formatFixed(accuracy, digits: 4))"
      if let best = progress.bestEpoch { text += "  (best: epoch \(best))" }
    }
    return text
  }

  /// A CNN recipe in one line: `resnet, 30 epochs of batch 32, adam 1e-3 cosine, augment
  /// crop-flip, validation 0.15 (patience 6), class weights none`.
  static func describe(_ h: CNNClassifier.Hyperparameters) -> String {
    let optimizer = if case .sgd = h.optimizer { "sgd" } else { "adam" }
    let validation =
      h.validationFraction > 0
      ? "validation \(h.validationFraction) (patience \(h.patience == 0 ? "off" : "\(h.patience)"))"
      : "no validation split"
    return
      "\(h.architecture.rawValue), \(h.epochs) epochs of batch \(h.batchSize), \(optimizer) \(h.learningRate) \(h.schedule.kind.rawValue), augment \(h.augmentation.kind.rawValue), \(validation), class weights \(h.classWeighting.rawValue)"
  }

  /// One line per epoch (training figures, and validation figures when there is a split), then
  /// which epoch's weights the model holds and why training ended where it did.
  static func historyLines(_ cnn: CNNClassifier) -> [String] {
    var lines = cnn.history.enumerated().map { epoch, record in
      var line =
        "  epoch \(epoch + 1): loss \(formatFixed(record.loss, digits: 4)), accuracy \(formatFixed(record.accuracy, digits: 4))"
      if let loss = record.validationLoss, let accuracy = record.validationAccuracy {
        line +=
          "; validation loss \(formatFixed(loss, digits: 4)), accuracy \(formatFixed(accuracy, digits: 4))"
      }
      return line
    }
    guard let kept = cnn.keptEpoch, let best = cnn.history[kept - 1].validationLoss else {
      return lines
    }
    let trained = cnn.history.count
    let patience = cnn.hyperparameters.patience
    lines.append(
      cnn.stoppedEarly
        ? "  early stopping after epoch \(trained) of \(cnn.hyperparameters.epochs): no lower validation loss in the \(patience) epochs after epoch \(kept) (\(formatFixed(best, digits: 4))); kept epoch \(kept)'s weights"
        : "  kept epoch \(kept) of \(trained): the lowest validation loss (\(formatFixed(best, digits: 4)))"
    )
    return lines
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseData

/// The training and validation sets of `glimpse value` and `glimpse clean`.
///
/// Either TRAIN and `--valid VALID` (read alike), or TRAIN plus `--split FILE`: the split's
/// "train" rows train, its first `--validation-rows` "test" rows validate, and the remaining
/// test rows are a held-out set no valuation sees (what `clean` reports accuracy on). With
/// `--noisy` the split's flipped training labels replace the true ones, and the flipped
/// points are known, so detection quality is reported.
struct ValuationDataOptions: ParsableArguments {
  @OptionGroup var dataOptions: DataOptions

  @Option(help: "The validation set the utility scores on (read like DATA).")
  var valid: String?

  @Option(help: "The validation set's label table, when it has one.")
  var validLabels: String?

  @Option(help: "A JSON split of DATA's rows: \"train\" rows are valued, \"test\" rows validate.")
  var split: String?

  @Option(help: "With --split: how many of the first test rows validate (the rest are held out).")
  var validationRows: Int?

  @Flag(help: "With --split: use the split's noisy training labels (its \"noisy\" entry).")
  var noisy = false

  func validate() throws {
    if valid == nil && split == nil { throw ValidationError("give a validation set: --valid FILE or --split FILE") }
    if valid != nil && split != nil { throw ValidationError("choose one of --valid and --split") }
    if noisy && split == nil { throw ValidationError("--noisy needs --split") }
    if let validationRows, validationRows < 1 { throw ValidationError("--validation-rows must be at least 1") }
  }

  struct Sets {
    var training: Dataset
    var validation: Dataset
    /// Test rows no valuation used (with --split), for retraining checks.
    var heldOut: Dataset?
    /// Which training labels were flipped (with --split --noisy).
    var flipped: [Bool]?
  }

  func load() throws -> Sets {
    let data = try dataOptions.load().dataset
    if let valid {
      var options = dataOptions.readOptions
      options.labelsPath = validLabels
      options.minimumClassCount = 1
      let read = try DatasetReader.read(valid, options: options)
      reportSkipped(read.skipped)
      let validation = try read.dataset.aligned(to: data.classNames, path: valid)
      guard validation.featureCount == data.featureCount else {
        throw CommandFailure(
          message: "\(valid): rows have \(validation.featureCount) features, but \(dataOptions.data) has \(data.featureCount)",
          status: ExitStatus.badInput)
      }
      return Sets(training: data, validation: validation, heldOut: nil, flipped: nil)
    }
    let path = split!
    let file = try SplitFile.read(path)
    try file.check(rows: data.count, path: path)
    let cut = min(validationRows ?? file.test.count, file.test.count)
    var training = data.subset(file.train)
    var flipped: [Bool]?
    if noisy {
      guard let labels = file.noisy, labels.trainLabelsNoisy.count == file.train.count else {
        throw CommandFailure(
          message: "\(path): no \"noisy\" entry with one train_labels_noisy value per train row",
          status: ExitStatus.badInput)
      }
      let index = Dictionary(uniqueKeysWithValues: data.classNames.enumerated().map { ($1, $0) })
      var mapped: [Int] = []
      for (row, label) in labels.trainLabelsNoisy.enumerated() {
        guard let target = index[String(label)] else {
          throw CommandFailure(
            message: "\(path): noisy label \(label) of train row \(row) is not a class of \(dataOptions.data)",
            status: ExitStatus.badInput)
        }
        mapped.append(target)
      }
      flipped = zip(mapped, training.labels).map { $0 != $1 }
      training = Dataset(
        features: training.features, labels: mapped, classNames: training.classNames,
        imageShape: training.imageShape, sources: training.sources)
    }
    let heldOut = cut < file.test.count ? data.subset(Array(file.test[cut...])) : nil
    return Sets(
      training: training, validation: data.subset(Array(file.test[..<cut])), heldOut: heldOut,
      flipped: flipped)
  }
}

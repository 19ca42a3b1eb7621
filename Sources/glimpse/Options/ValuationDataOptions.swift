import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseValuation

/// The training and validation sets of `glimpse value` and `glimpse clean`.
///
/// Either TRAIN and `--valid VALID` (read alike), or TRAIN plus `--split FILE`: the split's
/// "train" rows train, its first `--validation-rows` "test" rows validate, and the remaining
/// test rows are a held-out set no valuation sees (what `clean` reports accuracy on). With
/// `--noisy` the split's flipped training labels replace the true ones, and the flipped
/// points are known, so detection quality is reported.
struct ValuationDataOptions: ParsableArguments {
  @OptionGroup var dataOptions: DataOptions

  @Option(
    help: "The validation set the utility scores on (read like DATA); data-oob needs none.")
  var valid: String?

  @Option(help: "The validation set's label table, when it has one.")
  var validLabels: String?

  @Option(help: "A held-out test set (read like DATA): what clean and removal curves score on.")
  var test: String?

  @Option(help: "The test set's label table, when it has one.")
  var testLabels: String?

  @Option(help: "A JSON split of DATA's rows: \"train\" rows are valued, \"test\" rows validate.")
  var split: String?

  @Option(help: "With --split: how many of the first test rows validate (the rest are held out).")
  var validationRows: Int?

  @Flag(help: "With --split: use the split's noisy training labels (its \"noisy\" entry).")
  var noisy = false

  @Option(
    help: ArgumentHelp(
      "A text file naming the training points known to be mislabelled, one a line (a row's source, or its file name); detection quality is then reported, as with --noisy.",
      valueName: "file"))
  var flipped: String?

  func validate() throws {
    if split != nil && (valid != nil || test != nil) {
      throw ValidationError("--split replaces --valid and --test")
    }
    if noisy && split == nil { throw ValidationError("--noisy needs --split") }
    if noisy && flipped != nil {
      throw ValidationError("--noisy already knows the flipped points; drop --flipped")
    }
    if let validationRows, validationRows < 1 {
      throw ValidationError("--validation-rows must be at least 1")
    }
  }

  /// Reads the sets. A command that needs a validation set (value) or a test set (clean) says so.
  func load(needValidation: Bool, needTest: Bool = false) throws -> ValuationSets {
    var sets = try loadSets(needValidation: needValidation, needTest: needTest)
    if let flipped { sets.flipped = try readFlipped(flipped, training: sets.training) }
    return sets
  }

  /// The training points a `--flipped` file names: a line names a point when it is the point's
  /// source or the source's last path components (`3/17.png`, `17.png`). A line that names no
  /// point is an error, so that a typo is not counted as a clean label.
  private func readFlipped(_ path: String, training: Dataset) throws -> [Bool] {
    let text = String(decoding: try FileBytes.readRaw(path), as: UTF8.self)
    var rowsBySuffix: [String: [Int]] = [:]
    for (row, source) in training.sources.enumerated() {
      let parts = source.split(separator: "/", omittingEmptySubsequences: false)
      for start in parts.indices {
        rowsBySuffix[parts[start...].joined(separator: "/"), default: []].append(row)
      }
    }
    var marks = [Bool](repeating: false, count: training.count)
    // `\r\n` is one Character, so `isNewline` splits CRLF files into their lines too.
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    for (number, line) in lines.enumerated() {
      let name = line.trimming(" \t")
      if name.isEmpty { continue }
      guard let rows = rowsBySuffix[name] else {
        throw CommandFailure(
          message:
            "\(path):\(number + 1): '\(name)' names no training point of \(dataOptions.data)",
          status: ExitStatus.badInput)
      }
      for row in rows { marks[row] = true }
    }
    return marks
  }

  /// Whether a validation (or test) set was given, by `--valid`, `--test` or `--split`.
  var givesValidation: Bool { valid != nil || test != nil || split != nil }

  private func loadSets(needValidation: Bool, needTest: Bool) throws -> ValuationSets {
    let data = try dataOptions.load().dataset
    if !needValidation && !needTest && !givesValidation {
      // A method that needs none (Data-OOB): the training set stands in, and is never scored.
      return ValuationSets(training: data, validation: data, heldOut: nil)
    }
    guard let path = split else {
      guard let valid = valid ?? (needValidation ? nil : test) else {
        throw CommandFailure(
          message: "give a validation set: --valid FILE, or --split FILE", status: 64)
      }
      guard let test = test ?? (needTest ? nil : valid) else {
        throw CommandFailure(
          message: "give a test set: --test FILE, or --split FILE with --validation-rows",
          status: 64)
      }
      // clean without --valid validates on the test set (with its labels): read it once.
      let validationLabels = self.valid == nil ? testLabels : validLabels
      let validation = try readAligned(valid, labels: validationLabels, to: data)
      let sameFile = test == valid && testLabels == validationLabels
      let heldOut =
        self.test == nil
        ? nil : sameFile ? validation : try readAligned(test, labels: testLabels, to: data)
      return ValuationSets(training: data, validation: validation, heldOut: heldOut)
    }
    let file = try SplitFile.read(path)
    try file.check(rows: data.count, path: path)
    let noNoisyLabels = CommandFailure(
      message: "\(path): no \"noisy\" entry with one train_labels_noisy value per train row",
      status: ExitStatus.badInput)
    var noisyLabels: [String]?
    if noisy {
      guard let labels = file.noisy else { throw noNoisyLabels }
      noisyLabels = labels.trainLabelsNoisy.map { String($0) }
    }
    let sets: ValuationSets
    do {
      sets = try ValuationSets.split(
        data, trainRows: file.train, testRows: file.test, validationRows: validationRows,
        noisyLabels: noisyLabels)
    } catch {
      switch error {
      case .noisyLabelCount:
        throw noNoisyLabels
      case .unknownNoisyLabel(let label, let row):
        throw CommandFailure(
          message:
            "\(path): noisy label \(label) of train row \(row) is not a class of \(dataOptions.data)",
          status: ExitStatus.badInput)
      }
    }
    if needTest && sets.heldOut == nil {
      throw CommandFailure(
        message:
          "\(path): no test rows are left for testing; pass --validation-rows below \(file.test.count)",
        status: 64)
    }
    return sets
  }

  private func readAligned(_ path: String, labels: String?, to data: Dataset) throws -> Dataset {
    var options = dataOptions.readOptions
    options.labelsPath = labels
    options.minimumClassCount = 1
    // Images of other sizes or channels are brought to TRAIN's, as predict does for a model.
    let read = try ModelInput.read(
      path, options: options, inputShape: data.imageShape,
      targetName: "\(fileStem(dataOptions.data))'s")
    let set = try read.dataset.aligned(to: data.classNames, path: path)
    guard set.featureCount == data.featureCount else {
      throw CommandFailure(
        message:
          "\(path): rows have \(set.featureCount) features, but \(dataOptions.data) has \(data.featureCount)",
        status: ExitStatus.badInput)
    }
    return set
  }
}

import ArgumentParser
import GlimpseAudit
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseReport

/// `glimpse audit DATA [--test DATA] [--labels-b FILE] [--grades ...] --out DIR`: checks a
/// labelled image set (issue #20) and writes a report folder.
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Audit a labelled image set: two annotators, duplicates, leaks, classes, outliers.",
    discussion: """
      Writes into DIR: index.html (the page to read), report.json, contact sheets \
      (disagreements.png, exact_duplicates.png, near_duplicates.png, outliers.png) and tables \
      (exact_duplicates.csv, near_duplicates.csv, leaks.csv, disagreements.csv). Rows are \
      numbered from 0 through DATA, then the --test rows.

      Two annotators: A is DATA's own labels, B the label table --labels-b (the layout --labels \
      reads: an index column and one label column, one row per DATA row, in DATA's order). An \
      empty field is a missing label; an item missing from A or B is left out and counted. \
      Cohen's kappa is computed unweighted and with linear and quadratic weights on the scale \
      --grades (default: the sorted union of the labels, numerically when all are numbers); a \
      grade nobody used stays on the scale as a zero row and column, as in scikit-learn's \
      cohen_kappa_score(labels=...), so it still counts as a step for the weighted kappas.

      Exact duplicates have identical decoded 8-bit pixels and shape (a PNG and its JPEG copy \
      are not exact duplicates). Near-duplicates are pairs whose 32x32 grey copies have a \
      correlation distance (1 - r, minimised over shifts of up to 2 cells) at most \
      --near-threshold. Leaks are DATA/test pairs that are exact or near duplicates.

      report.json (keys sorted; schema_version 1): data, test, counts {data, test}, sources \
      (each row's file or table line), labels (each row's label), exact_duplicates (groups, \
      lists of row indices), exact_duplicate_conflicts (the groups with differing labels), \
      near_duplicates ([i, j, distance], i < j, closest first), near_duplicate_threshold, leaks \
      ([data_row, test_row]), annotators (absent without --labels-b; else labels_b, classes, \
      crosstab (rows A, columns B), compared, agreement, kappa {unweighted, linear, quadratic}, \
      disagreements, disagreements_2plus, dropped_missing: DATA row indices), profile and \
      test_profile (rows, classes [{name, count}], imbalance_ratio, shapes [{shape, count}], \
      channel_means, channel_deviations, blank_rows), outliers ([{row, score}], at most 20), \
      label_issues (absent without probabilities; else filter_by as cleanlab names it, \
      probabilities (their origin), classes, thresholds, confident_joint (calibrated; rows = \
      given label, columns = confident class), indices (flagged DATA rows, lowest \
      self-confidence first)), review_queue (absent without a signal; else fusion, signals, \
      items [{row, source, given, suggested, score, reasons}], most suspect first), skipped \
      ([{path, reason}]: files that could not be read). See docs/audit.md.

      Label issues (confident learning, Northcutt et al. 2021, as cleanlab 2.9's \
      find_label_issues): out-of-fold probabilities from --pred-probs (the CSV glimpse predict \
      writes, one row per DATA row) or --folds K (the --model trained K times on stratified, \
      seeded folds, each predicting the fold it did not see). --filter-by prune_by_noise_rate \
      (cleanlab's default), prune_by_class, both, confident_learning, predicted_neq_given, \
      low_self_confidence or low_normalized_margin.

      Review queue: DATA rows ranked by reciprocal rank fusion (1/(60 + rank) summed) of \
      self-confidence, data value (--values: the CSV glimpse value writes for DATA's rows), \
      annotator disagreement, and duplicates whose labels differ or leaks (rank 1 each); the \
      top-2 probability gap and same-label duplicates are reasons only. Written as \
      review_queue.csv, review_queue.png and a table on the page (--queue-length rows, \
      default the larger of 100 and a tenth of DATA).
      """)

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "A test set to check for leaks (read like DATA).")
  var test: String?

  @Option(help: "The label table of the test set, when it is not in the test file.")
  var testLabels: String?

  @Option(
    name: .customLong("labels-b"),
    help: "A second annotator's label table, one row per DATA row (empty = missing).")
  var labelsB: String?

  @Option(
    help: ArgumentHelp(
      "The grade scale in order, comma-separated (e.g. 0,1,2,3,4); default: the sorted labels.",
      valueName: "g1,g2,..."))
  var grades: String?

  @Option(help: "Near-duplicate distance threshold (0 = identical, 1 = uncorrelated).")
  var nearThreshold = 0.015

  @Option(help: "The folder to write the report into (created if needed).")
  var out: String

  @Option(help: "Out-of-fold probabilities for confident learning: glimpse predict's CSV.")
  var predProbs: String?

  @Option(help: "Compute out-of-fold probabilities with K folds of --model (K ≥ 2).")
  var folds: Int?

  @Option(
    help:
      "Label-issue filter: prune_by_noise_rate, prune_by_class, both, confident_learning, predicted_neq_given, low_self_confidence, low_normalized_margin."
  )
  var filterBy = LabelIssueFilter.pruneByNoiseRate

  @Option(help: "Fraction of the estimated label issues to flag (cleanlab's frac_noise).")
  var fracNoise = 1.0

  @Option(help: "Leave at least this many rows in each class (cleanlab's min_examples_per_class).")
  var minExamplesPerClass = 1

  @Option(
    help: ArgumentHelp(
      "Flag exactly this many rows per given class, comma-separated in the classes' order (cleanlab's num_to_remove_per_class; pruning filters only).",
      valueName: "n,n,…"))
  var numToRemovePerClass: String?

  @Option(help: "Data values of DATA's rows for the review queue (glimpse value's CSV).")
  var values: String?

  @Option(help: "Rows in the review queue (default: the larger of 100 and a tenth of DATA).")
  var queueLength: Int?

  @Option(help: "Seed for the folds and the models they train.")
  var seed: UInt64 = 0

  @OptionGroup(title: "Model for --folds") var modelOptions: ModelOptions

  func validate() throws {
    guard nearThreshold >= 0, nearThreshold <= 2 else {
      throw ValidationError("--near-threshold must lie in 0...2")
    }
    if let grades, gradeScale(grades).isEmpty {
      throw ValidationError("--grades needs at least one grade")
    }
    if predProbs != nil && folds != nil { throw ValidationError("give --pred-probs or --folds") }
    if let folds, folds < 2 { throw ValidationError("--folds must be at least 2") }
    if !(0...1).contains(fracNoise) { throw ValidationError("--frac-noise must lie in [0, 1]") }
    if fracNoise != 1 && !filterBy.prunes {
      throw ValidationError("--frac-noise applies to prune_by_noise_rate, prune_by_class, both")
    }
    if minExamplesPerClass < 0 { throw ValidationError("--min-examples-per-class must be ≥ 0") }
    if numToRemovePerClass != nil {
      guard removePerClass != nil else {
        throw ValidationError("--num-to-remove-per-class takes counts ≥ 0, e.g. 5,0,3")
      }
      guard filterBy.prunes else {
        throw ValidationError(
          "--num-to-remove-per-class applies to prune_by_noise_rate, prune_by_class and both")
      }
    }
    if let queueLength, queueLength < 1 { throw ValidationError("--queue-length must be ≥ 1") }
  }

  func run() throws {
    let start = monotonicSeconds()
    var options = dataOptions.readOptions
    options.minimumClassCount = 1
    let reading = try DatasetReader.read(dataOptions.data, options: options)
    reportSkipped(reading.skipped)
    var skippedFiles = reading.skipped
    reportScaling(reading.scaling)
    let data = reading.dataset
    guard data.imageShape != nil else {
      throw FileContentError(path: dataOptions.data, reason: "holds no images (no image shape)")
    }
    var testSet: Dataset?
    if let test {
      var testOptions = options
      testOptions.labelsPath = testLabels
      let reading = try DatasetReader.read(test, options: testOptions)
      reportSkipped(reading.skipped)
      skippedFiles += reading.skipped
      guard reading.dataset.imageShape != nil else {
        throw FileContentError(path: test, reason: "holds no images (no image shape)")
      }
      testSet = reading.dataset
    }
    var second: (labels: [String?], path: String)?
    if let labelsB {
      second = (try readAnnotatorLabels(labelsB, rows: data.count), labelsB)
    }
    let images = AuditImages(data: data, test: testSet)
    var finder = NearDuplicateFinder()
    finder.threshold = nearThreshold
    let issueInput = try labelIssueInput(data)
    let valueInput = try values.map {
      (values: try ValuesTable.readValues($0, count: data.count), path: $0)
    }
    var results = try AuditResults.run(
      images: images, dataPath: dataOptions.data, testPath: test, labelsB: second,
      grades: grades.map(gradeScale), finder: finder, labelIssues: issueInput,
      values: valueInput, queueLength: queueLength
    ) { stage in printError("glimpse: \(stage.rawValue)") }
    results.skipped = skippedFiles.map { ($0.path, $0.reason) }
    try AtomicFile.createDirectory(out)
    for file in try results.files(glimpseVersion: Glimpse.version) {
      try AtomicFile.write(file.bytes, to: out + "/" + file.name)
    }
    print(
      "audit of \(images.dataCount) rows"
        + (testSet.map { " and \($0.count) test rows" } ?? "")
        + " in \(formatFixed(monotonicSeconds() - start, digits: 1)) s")
    print(
      "exact duplicate groups: \(results.exactDuplicates.count); near-duplicate pairs: "
        + "\(results.nearDuplicates.count)" + (test != nil ? "; leaks: \(results.leaks.count)" : "")
    )
    if let annotators = results.annotators {
      let kappa = annotators.agreement.kappa
      print(
        "annotators: agreement \(formatFixed(annotators.agreement.agreement * 100, digits: 1)) %, "
          + "kappa \(kappa.map { formatFixed($0.unweighted, digits: 3) } ?? "undefined"), "
          + "quadratic \(kappa.map { formatFixed($0.quadratic, digits: 3) } ?? "undefined"); "
          + "\(annotators.agreement.droppedMissing.count) items missing a label")
    }
    if let findings = results.labelIssues {
      print(
        "label issues (\(findings.issues.filter.rawValue)): \(findings.issues.ranked.count) of "
          + "\(data.count) rows")
    }
    if let queue = results.reviewQueue {
      print("review queue: \(queue.items.count) rows (\(queue.signals.joined(separator: ", ")))")
    }
    print("report: \(out)/index.html")
  }

  /// `--num-to-remove-per-class` as counts, or `nil` when absent or not counts ≥ 0.
  var removePerClass: [Int]? {
    guard let numToRemovePerClass else { return nil }
    let counts = numToRemovePerClass.split(separator: ",", omittingEmptySubsequences: false)
      .map { Int($0.trimming(" ")) }
    guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
    return counts.compactMap { $0 }
  }

  /// The probabilities confident learning starts from: read from --pred-probs, or computed
  /// with --folds; nil with neither.
  func labelIssueInput(_ data: Dataset) throws -> AuditResults.LabelIssueInput? {
    var learning = ConfidentLearning()
    learning.filter = filterBy
    learning.fractionOfNoise = fracNoise
    learning.minimumPerClass = minExamplesPerClass
    learning.removePerClass = removePerClass
    if let predProbs {
      let probabilities = try ClassProbabilities.readPredictions(
        predProbs, rows: data.count, limits: dataOptions.readOptions.limits)
      return AuditResults.LabelIssueInput(
        probabilities: probabilities, origin: predProbs, learning: learning)
    }
    guard let folds else { return nil }
    let started = monotonicSeconds()
    printError("glimpse: \(folds)-fold out-of-fold probabilities, \(modelOptions.model.rawValue)")
    let probabilities = try OutOfFold.probabilities(data, folds: folds, seed: seed) {
      training, seed in
      try modelOptions.fit(training, seed: seed) { _ in }
    } progress: { done in
      printError("glimpse:   fold \(done)/\(folds) done")
    }
    print(
      "out-of-fold probabilities: \(folds) folds of \(modelOptions.model.rawValue) in "
        + "\(formatFixed(monotonicSeconds() - started, digits: 1)) s")
    return AuditResults.LabelIssueInput(
      probabilities: probabilities,
      origin:
        "\(folds)-fold cross-validation (stratified, seed \(seed)), \(modelOptions.model.rawValue)",
      learning: learning)
  }

  /// Annotator B's labels from a label table (an index column and one label column, or the
  /// `--label-column` among several), one per DATA row; empty fields are missing.
  func readAnnotatorLabels(_ path: String, rows: Int) throws -> [String?] {
    let limits = dataOptions.readOptions.limits
    let bytes = try FileBytes.read(path, limits: limits)
    let header = CSVReader.header(of: bytes, maxColumns: limits.maxColumns)
    let column = try TableDatasetReader.labelColumn(
      of: header, preferred: dataOptions.reading.labelColumn, path: path)
    let table = try CSVReader.parse(bytes, path: path, textColumns: Set(header), limits: limits)
    guard table.rowCount == rows else {
      throw FileContentError(
        path: path, reason: "holds \(table.rowCount) labels, DATA has \(rows) rows; they must match"
      )
    }
    return (table.textColumns[column] ?? []).map { label in
      label.allSatisfy { $0 == " " || $0 == "\t" } ? nil : label
    }
  }
}

/// The grades of `--grades`, in order, without surrounding spaces.
func gradeScale(_ text: String) -> [String] {
  text.split(separator: ",").map { $0.trimmingPrefixAndSuffixSpaces() }.filter { !$0.isEmpty }
}

extension Substring {
  fileprivate func trimmingPrefixAndSuffixSpaces() -> String {
    String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
  }
}

extension LabelIssueFilter: ExpressibleByArgument {}

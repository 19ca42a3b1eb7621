import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels

/// Which ambiguous rows to keep, shared by `ambiguous` and `explain-batch --ambiguous`.
struct AmbiguityOptions: ParsableArguments {
  @Option(help: "Keep rows with p1 − p2 at most this (the seed rule uses 0.5).")
  var maxMargin: Double?

  @Flag(help: "Keep only rows whose first class is wrong.")
  var wrongOnly = false

  @Option(help: "Keep only rows whose first two classes are these two, e.g. 4,9.")
  var pair: String?

  @Flag(help: "Every row (ranked by margin), ignoring the seed rule.")
  var all = false

  /// The seed rule unless other conditions are given.
  func query(classNames: [String]) throws -> AmbiguityQuery {
    var pairIndices: [Int]?
    if let pair {
      let names = pair.split(separator: ",").map(String.init)
      let indices = names.compactMap { classNames.firstIndex(of: $0) }
      guard names.count == 2, indices.count == 2 else {
        throw CommandFailure(
          message:
            "--pair \(pair): give two of the model's classes (\(classNames.joined(separator: ", ")))",
          status: 64)
      }
      pairIndices = indices
    }
    if all { return AmbiguityQuery() }
    if maxMargin == nil && !wrongOnly && pairIndices == nil { return .seedRule }
    return AmbiguityQuery(maximumMargin: maxMargin, wrongOnly: wrongOnly, classPair: pairIndices)
  }
}

/// `glimpse ambiguous MODEL DATA --out ambiguous.csv`: where the model hesitates.
struct AmbiguousCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ambiguous",
    abstract: "List predictions where the model hesitates between its first two classes.",
    discussion: """
      By default the seed notebook's rule: rows where the SVM's vote and the argmax of its \
      probabilities agree, the first class is wrong, the truth is the second, and p1 − p2 ≤ 0.5. \
      --max-margin, --wrong-only and --pair ask other questions; --all ranks every row. The CSV \
      (row, source, truth, first, second, p1, p2, margin) is sorted by margin.
      """)

  @Argument(help: "A model file written by glimpse train or import, an .onnx file, or cmd:COMMAND.")
  var modelPath: String

  @OptionGroup var modelSource: ModelSourceOptions

  @OptionGroup var dataOptions: DataOptions
  @OptionGroup var ambiguity: AmbiguityOptions

  @Option(help: "Rank only the \"test\" rows of this split file.")
  var split: String?

  @Option(help: "The CSV file to write.")
  var out = "output/ambiguous.csv"

  func run() throws {
    let (model, archive) = try loadModel(modelPath, external: modelSource.settings)
    let (data, rows) = try loadLabelledRows(
      dataOptions.data, options: dataOptions.readOptions, model: model, modelPath: modelPath,
      split: split,
      inputShape: archive.imageShape)
    let found = try rankAmbiguous(
      model, data: data, query: ambiguity.query(classNames: model.classNames))
    let header = ["row", "source", "truth", "first", "second", "p1", "p2", "margin"]
    let lines = found.map { r in
      [
        String(rows[r.row]), data.sources[r.row], r.truth.map { model.classNames[$0] } ?? "",
        model.classNames[r.first], model.classNames[r.second], String(r.firstProbability),
        String(r.secondProbability), String(r.margin),
      ]
    }
    try AtomicFile.write(CSVWriter.text(header: header, rows: lines), to: out)
    print("\(found.count) of \(data.count) rows match; wrote \(out)")
    for r in found.prefix(10) {
      print(
        "  row \(rows[r.row]): \(Self.percent(r.firstProbability)) \(model.classNames[r.first]), \(Self.percent(r.secondProbability)) \(model.classNames[r.second]), truth \(r.truth.map { model.classNames[$0] } ?? "?")  (\(data.sources[r.row]))"
      )
    }
    if found.count > 10 { print("  …") }
  }

  static func percent(_ p: Double) -> String { formatPercent(p) }
}

/// Reads labelled data aligned to the model's classes, optionally only a split's test rows;
/// returns the data and each row's number in the file. Images are brought to `inputShape`
/// (the model's, see `ModelInput`).
func loadLabelledRows(
  _ path: String, options: ReadOptions, model: any Classifier, modelPath: String, split: String?,
  inputShape: ImageShape? = nil
) throws -> (Dataset, [Int]) {
  var read = options
  read.minimumClassCount = 1
  let reading = try ModelInput.read(path, options: read, inputShape: inputShape)
  var data = try reading.dataset.aligned(to: model.classNames, path: path)
  try checkFeatureCount(data, of: path, model: model, path: modelPath)
  var rows = Array(0..<data.count)
  if let split {
    let file = try SplitFile.read(split)
    try file.check(rows: data.count, path: split)
    data = data.subset(file.test)
    rows = file.test
  }
  return (data, rows)
}

/// The ranked rows that match a query, smallest margin first.
func rankAmbiguous(_ model: any Classifier, data: Dataset, query: AmbiguityQuery) throws
  -> [RankedPrediction]
{
  // An SVM's votes and probabilities come from one kernel evaluation.
  let (probabilities, votes): (Matrix, [Int]?) =
    if let svm = model as? SVMClassifier {
      svm.predictProbabilitiesAndVotes(data)
    } else {
      (model.predictProbabilities(data), nil)
    }
  try checkModelAnswered(model)
  let ranked = AmbiguityFinder.rank(probabilities, truth: data.labels, votes: votes)
  return AmbiguityFinder.find(ranked, matching: query)
}

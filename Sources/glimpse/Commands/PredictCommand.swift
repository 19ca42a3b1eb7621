import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// `glimpse predict MODEL DATA --out probs.csv`: class probabilities for every row.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Write class probabilities and the predicted class of every row to a CSV file.",
    discussion:
      "DATA need not have labels. Columns: row, source, one column per class, predicted (and vote for an SVM)."
  )

  @Argument(help: "A model file written by glimpse train or import, an .onnx file, or cmd:COMMAND.")
  var modelPath: String

  @OptionGroup var modelSource: ModelSourceOptions

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "The CSV file to write.")
  var out: String

  func run() throws {
    let (model, archive) = try loadModel(modelPath, external: modelSource.settings)
    var options = dataOptions.readOptions
    options.requireLabels = false
    options.minimumClassCount = 0
    let data = try ModelInput.read(
      dataOptions.data, options: options, inputShape: archive.imageShape
    ).dataset
    try checkFeatureCount(data, of: dataOptions.data, model: model, path: modelPath)
    // 8-bit rows are scored a chunk at a time; an SVM's probabilities and votes come from one
    // kernel evaluation.
    let (probabilities, votes): (Matrix, [Int]?) =
      if let svm = model as? SVMClassifier {
        svm.predictProbabilitiesAndVotes(data)
      } else {
        (model.predictProbabilities(data), nil)
      }
    try checkModelAnswered(model)
    let argmax = probabilities.argmaxRows()
    var header = ["row", "source"] + model.classNames.map { "p_\($0)" } + ["predicted"]
    if votes != nil { header.append("vote") }
    var rows: [[String]] = []
    for row in 0..<data.count {
      var fields = [String(row), data.sources[row]]
      fields += probabilities.row(row).map { String($0) }
      fields.append(model.classNames[argmax[row]])
      if let votes { fields.append(model.classNames[votes[row]]) }
      rows.append(fields)
    }
    try AtomicFile.write(CSVWriter.text(header: header, rows: rows), to: out)
    print("wrote \(data.count) rows × \(model.classNames.count) classes to \(out)")
  }
}

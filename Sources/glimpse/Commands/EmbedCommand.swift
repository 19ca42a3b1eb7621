import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// `glimpse embed MODEL DATA --out emb.csv`: a CNN's penultimate activations as a feature table.
struct EmbedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "embed",
    abstract:
      "Write a CNN's penultimate-layer activations of every row, with the labels, as a CSV table.",
    discussion:
      "The table (columns e0…eN, label, source) is read like any other, so every command, data valuation included, runs on embeddings. source is the row's image file, or table:line; value --sheet draws those original images."
  )

  @Argument(help: "A CNN model file written by glimpse train --model cnn.")
  var modelPath: String

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "The CSV file to write.")
  var out: String

  func run() throws {
    let (model, archive) = try loadModel(modelPath)
    guard let cnn = model as? CNNClassifier else {
      throw CommandFailure(
        message:
          "\(modelPath): a '\(type(of: model).kind)' model has no embedding; train one with --model cnn",
        status: ExitStatus.badInput)
    }
    var options = dataOptions.readOptions
    options.minimumClassCount = 0
    options.requireLabels = false
    let data = try ModelInput.read(
      dataOptions.data, options: options, inputShape: archive.imageShape
    ).dataset
    try checkFeatureCount(data, of: dataOptions.data, model: model, path: modelPath)
    let started = monotonicSeconds()
    let embedding = cnn.embed(data)
    let header = (0..<embedding.columns).map { "e\($0)" } + ["label", "source"]
    let rows = (0..<embedding.rows).map { row in
      embedding.row(row).map { String($0) } + [
        data.classNames[data.labels[row]], data.sources[row],
      ]
    }
    try AtomicFile.write(CSVWriter.text(header: header, rows: rows), to: out)
    print(
      "embedded \(data.count) rows into \(embedding.columns) features in \(formatDuration(monotonicSeconds() - started)); wrote \(out)"
    )
  }
}

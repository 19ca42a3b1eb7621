import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels

/// `glimpse embed MODEL DATA --out emb.csv`: a CNN's (or an imported network's) penultimate
/// activations as a feature table.
struct EmbedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "embed",
    abstract:
      "Write a CNN's or an imported network's penultimate-layer activations (the input of its last fully connected layer) of every row, with the labels, as a CSV table.",
    discussion:
      "The table (columns e0…eN, label, source) is read like any other, so every command, data valuation included, runs on embeddings. source is the row's image file, or table:line; value --sheet draws those original images."
  )

  @Argument(
    help:
      "A CNN model file written by glimpse train --model cnn, or an imported network (glimpse import, or an .onnx file) that ends in a fully connected layer."
  )
  var modelPath: String

  @OptionGroup var dataOptions: DataOptions

  @Option(help: "The CSV file to write.")
  var out: String

  func run() throws {
    let (model, archive) = try loadModel(modelPath)
    let embedder = try imageEmbedder(model, path: modelPath)
    var options = dataOptions.readOptions
    options.minimumClassCount = 0
    options.requireLabels = false
    let data = try ModelInput.read(
      dataOptions.data, options: options, inputShape: archive.imageShape
    ).dataset
    try checkFeatureCount(data, of: dataOptions.data, model: model, path: modelPath)
    let started = monotonicSeconds()
    let embedding = embedder.embed(data)
    let header = (0..<embedding.columns).map { "e\($0)" } + ["label", "source"]
    let rows = (0..<embedding.rows).map { row in
      embedding.row(row).map { String($0) } + [
        data.classNames[data.labels[row]], data.sources[row],
      ]
    }
    try AtomicFile.write(CSVWriter.text(header: header, rows: rows), to: out)
    print("embedding: \(embedder.embeddingLayer)")
    print(
      "embedded \(data.count) rows into \(embedding.columns) features in \(formatDuration(monotonicSeconds() - started)); wrote \(out)"
    )
  }
}

/// The model as an `ImageEmbedder` whose embedding exists, or one line saying why not.
func imageEmbedder(_ model: any Classifier, path: String) throws -> any ImageEmbedder {
  guard let embedder = model as? any ImageEmbedder else {
    throw CommandFailure(
      message:
        "\(path): a '\(type(of: model).kind)' model has no embedding; use a CNN (glimpse train --model cnn) or an imported network",
      status: ExitStatus.badInput)
  }
  if let problem = embedder.embeddingProblem {
    throw CommandFailure(
      message: "\(path): no embedding: \(problem)", status: ExitStatus.badInput)
  }
  return embedder
}

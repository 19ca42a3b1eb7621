import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseRender

/// `--values FILE --train DATA`: show the explained image's nearest training images with their
/// labels and data values beside the LIME overlays.
struct NeighborOptions: ParsableArguments {
  @Option(
    help: "A values file from glimpse value: show the nearest training images with their values.")
  var values: String?

  @Option(
    help: "The training data the values belong to (read like DATA; rows are matched by source).")
  var train: String?

  @Option(help: "The training data's label table, when it has one.")
  var trainLabels: String?

  @Option(help: "How many nearest training images to show.")
  var neighbors = 8

  func validate() throws {
    if (values == nil) != (train == nil) {
      throw ValidationError("--values and --train go together")
    }
    if neighbors < 1 { throw ValidationError("--neighbors must be at least 1") }
  }

  /// The training rows named in the values file, with their values and labels as valued.
  func load(reading: ReadingOptions) throws -> TrainingNeighbors? {
    guard let values, let train else { return nil }
    var options = reading.readOptions
    options.labelsPath = trainLabels
    let read = try DatasetReader.read(train, options: options)
    reportSkipped(read.skipped)
    let data = read.dataset
    let table = try CSVReader.read(values, textColumns: ["source", "label", "stderr"])
    guard let sources = table.textColumns["source"], let labels = table.textColumns["label"],
      let valueColumn = table.numericColumnNames.firstIndex(of: "value")
    else {
      throw CommandFailure(
        message: "\(values):1: expected columns index,source,label,value,stderr,samples",
        status: ExitStatus.badInput)
    }
    let rowOfSource = Dictionary(
      data.sources.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    var rows: [Int] = []
    for (line, source) in sources.enumerated() {
      guard let row = rowOfSource[source] else {
        throw CommandFailure(
          message:
            "\(values):\(table.lineNumbers[line]): source '\(source)' is not a row of \(train)",
          status: ExitStatus.badInput)
      }
      rows.append(row)
    }
    let subset = data.subset(rows)
    return TrainingNeighbors(
      data: subset, labels: labels,
      values: (0..<table.rowCount).map { table.values[$0, valueColumn] },
      count: neighbors)
  }
}

/// Training images, their labels (as valued) and values, searchable by distance.
struct TrainingNeighbors {
  let data: Dataset
  let labels: [String]
  let values: [Double]
  let count: Int

  /// The nearest training images to `image` (Euclidean, in the model's input space).
  func nearest(to image: Image) throws -> [ExplanationFigure.Neighbor] {
    guard image.pixels.count == data.featureCount,
      let shape = data.imageShape ?? Optional(image.shape)
    else {
      throw CommandFailure(
        message:
          "the training data has \(data.featureCount) features, the image \(image.pixels.count)",
        status: ExitStatus.badInput)
    }
    var rng = SeededGenerator(seed: 0)
    let index = try KNearestNeighbors.fit(
      data, hyperparameters: .init(k: 1), using: &rng, progress: { _ in })
    let rows = index.neighbors(
      of: Matrix(rows: 1, columns: image.pixels.count, storage: image.pixels), count: count)[0]
    return rows.map { row in
      ExplanationFigure.Neighbor(
        image: Image(shape: shape, pixels: data.values(ofRow: row)), label: labels[row],
        value: values[row])
    }
  }
}

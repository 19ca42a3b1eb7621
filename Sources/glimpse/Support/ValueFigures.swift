import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseRender
import GlimpseValuation

/// The pictures of a valuation: the data sheet and the point-removal curve.
enum ValueFigures {
  /// The lowest- and highest-valued training images with labels and values.
  ///
  /// When `dataPath` is a table with a `source` column (an embeddings table from `glimpse
  /// embed`), its rows are not pictures: the sheet draws the original images the sources name.
  static func sheet(
    _ result: ValuationResult, training: Dataset, dataPath: String, flipped: [Bool]?,
    cleanLabels: [Int]?,
    count: Int, title: String
  ) throws -> [UInt8] {
    let order = result.ascendingOrder
    let shown = min(count, training.count / 2)
    let rows = Array(order.prefix(shown)) + Array(order.suffix(shown).reversed())
    let pictures: [Int: Image]
    if sourcesAreOrigins(training, dataPath: dataPath) {
      pictures = try OriginalImages(dataPath: dataPath).images(of: rows, in: training)
    } else if let shape = training.imageShape {
      pictures = Dictionary(
        rows.map { ($0, Image(shape: shape, pixels: training.values(ofRow: $0))) }
      ) { a, _ in a }
    } else {
      throw CommandFailure(
        message:
          "\(dataPath): the data sheet needs images; these rows have no image shape (pass --shape HxW) and no source column naming their images",
        status: 64)
    }
    func item(_ row: Int) -> DataValueSheet.Item {
      let bad = flipped?[row] ?? false
      let note =
        bad ? cleanLabels.map { "flipped, was \(training.classNames[$0[row]])" } ?? "flipped" : nil
      return DataValueSheet.Item(
        image: pictures[row] ?? Image(shape: ImageShape(height: 1, width: 1), pixels: [0]),
        label: training.classNames[training.labels[row]], value: result.values[row], note: note,
        flagged: bad)
    }
    let lowest = rows.prefix(shown).map(item)
    let highest = rows.dropFirst(shown).map(item)
    var subtitle = "\(result.method) values of \(training.count) training points"
    if let flipped {
      let detection = NoiseDetection(values: result.values, bad: flipped)
      subtitle +=
        "; red frame: a flipped label (\(detection.lowestTenPercentHits) of the lowest \(detection.lowestTenPercentCount) are flipped, ROC AUC \(formatFixed(detection.rocAUC, digits: 3)))"
    }
    let images = (lowest + highest).map(\.image)
    let sheet = DataValueSheet(
      title: title, subtitle: subtitle, lowest: lowest, highest: highest,
      invert: ContactSheet.prefersInverted(images), columns: min(max(shown, 1), 10))
    return try sheet.pngData()
  }

  /// Whether the rows' sources came from a `source` column of the table at `dataPath` (they
  /// name other files) rather than being the table's own lines (`path:line`) or a folder's files.
  static func sourcesAreOrigins(_ training: Dataset, dataPath: String) -> Bool {
    // A table names its rows `path:line`, an IDX file `path#index`.
    !isDirectoryPath(dataPath) && training.sources.contains { !$0.hasPrefix(dataPath) }
  }

  /// Accuracy of `model` retrained without the lowest-, highest-valued or random points, and the
  /// figure of it.
  static func removalCurve(
    _ result: ValuationResult, training: Dataset, evaluation: Dataset, evaluationName: String,
    model: LearnerFamily
  ) throws -> (PointRemovalCurves, [UInt8]) {
    let curves = PointRemovalCurves.compute(
      retraining: model, training: training, evaluation: evaluation, values: result.values)
    let figure = PointRemovalFigure(
      title: "Removing training points by \(result.method) value",
      subtitle:
        "\(model.summary) retrained on what is left of \(training.count) points, scored on \(evaluationName)",
      yLabel: "accuracy", fractions: curves.fractions,
      series: PointRemovalFigure.standardSeries(
        lowestFirst: curves.lowestFirst, highestFirst: curves.highestFirst, random: curves.random))
    return (curves, try figure.pngData())
  }
}

/// The original images that an embeddings table's `source` column names: image files, or lines
/// of an image table (`table.csv:12`, as every reader names its rows). Relative paths are tried
/// as given, then beside the embeddings table.
struct OriginalImages {
  let dataPath: String

  /// The image of each of `rows`; one line naming the source and the reason when one is missing.
  func images(of rows: [Int], in training: Dataset) throws -> [Int: Image] {
    var tables: [String: [String: Image]] = [:]
    var images: [Int: Image] = [:]
    for row in rows {
      let source = training.sources[row]
      if ImageFileFormat(pathExtensionOf: source) != nil {
        guard let path = existing(source) else {
          throw missing(source, row: row, reason: "no such image file")
        }
        do {
          images[row] = try readImageFile(path)
        } catch {
          throw missing(source, row: row, reason: "\(error)")
        }
        continue
      }
      // `table:line` (or an IDX file's `file#index`): the number after the last separator.
      guard let mark = source.lastIndex(where: { $0 == ":" || $0 == "#" }),
        let line = Int(source[source.index(after: mark)...]), line >= 0,
        let table = existing(String(source[..<mark]))
      else {
        throw missing(source, row: row, reason: "neither an image file nor table:line")
      }
      if tables[table] == nil {
        tables[table] = try imagesByLine(of: table, row: row, source: source)
      }
      guard let image = tables[table]?[table + String(source[mark]) + "\(line)"] else {
        throw missing(source, row: row, reason: "\(table) has no data row \(source[mark])\(line)")
      }
      images[row] = image
    }
    return images
  }

  /// The images of a table's rows by source (`path:line`).
  private func imagesByLine(of table: String, row: Int, source: String) throws -> [String: Image] {
    var options = ReadOptions()
    options.requireLabels = false
    options.minimumClassCount = 0
    let data: Dataset
    do {
      data = try DatasetReader.read(table, options: options).dataset
    } catch {
      throw missing(source, row: row, reason: "\(error)")
    }
    guard data.imageShape != nil else {
      throw missing(
        source, row: row,
        reason: "the rows of \(table) are not images (their width is not a square)")
    }
    var byLine: [String: Image] = [:]
    for index in 0..<data.count where byLine[data.sources[index]] == nil {
      byLine[data.sources[index]] = data.image(at: index)
    }
    return byLine
  }

  /// `path` as given when it exists, else beside the embeddings table.
  private func existing(_ path: String) -> String? {
    if FileBytes.exists(path) { return path }
    guard !path.hasPrefix("/"), let slash = dataPath.lastIndex(of: "/") else { return nil }
    let beside = String(dataPath[...slash]) + path
    return FileBytes.exists(beside) ? beside : nil
  }

  private func missing(_ source: String, row: Int, reason: String) -> CommandFailure {
    CommandFailure(
      message:
        "\(dataPath): the data sheet draws the original images named in the source column; row \(row)'s source \(quoted(source, delimiter: "\"")) cannot be drawn: \(reason)",
      status: ExitStatus.badInput)
  }
}

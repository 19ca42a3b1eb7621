import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseRender

/// What `train` and `evaluate` print about a model on labelled data.
enum ModelReport {
  /// Lines: accuracy and macro F1 (and for an SVM the probability-argmax rule beside the vote).
  static func lines(_ model: any Classifier, on data: Dataset, name: String) -> (
    lines: [String], report: ClassificationReport
  ) {
    // 8-bit rows are scored a chunk at a time (never the whole Double matrix); an SVM's
    // probabilities and votes come from one kernel evaluation.
    let (probabilities, predicted): (Matrix, [Int]) =
      if let svm = model as? SVMClassifier {
        svm.predictProbabilitiesAndVotes(data)
      } else {
        (model.predictProbabilities(data), model.predict(data))
      }
    let report = ClassificationReport(
      truth: data.labels, predicted: predicted, classCount: model.classNames.count)
    var lines = [
      "\(name): \(data.count) rows, accuracy \(formatFixed(report.accuracy, digits: 4)), macro F1 \(formatFixed(report.macroF1, digits: 4))"
    ]
    if model is SVMClassifier {
      let argmax = probabilities.argmaxRows()
      let byProbability = ClassificationReport(
        truth: data.labels, predicted: argmax, classCount: model.classNames.count)
      let disagreements = zip(argmax, predicted).filter { $0 != $1 }.count
      lines[0] += " (one-vs-one votes)"
      lines.append(
        "  argmax of probabilities: accuracy \(formatFixed(byProbability.accuracy, digits: 4)); differs from the vote on \(disagreements) rows"
      )
    }
    return (lines, report)
  }

  /// Per-class precision, recall and F1.
  static func perClass(_ report: ClassificationReport, classNames: [String]) -> [String] {
    let width = max(5, classNames.map(\.count).max() ?? 0)
    var lines = ["  " + "class".padding(width) + "  precision  recall  f1      rows"]
    for (c, name) in classNames.enumerated() {
      lines.append(
        "  " + name.padding(width) + "  " + formatFixed(report.precision[c], digits: 3).padding(9)
          + "  " + formatFixed(report.recall[c], digits: 3).padding(6) + "  "
          + formatFixed(report.f1[c], digits: 3).padding(6)
          + "  \(report.counts[c].reduce(0, +))")
    }
    return lines
  }

  /// The confusion matrix figure, normalised by true class.
  static func confusionPNG(_ report: ClassificationReport, classNames: [String], title: String)
    throws -> [UInt8]
  {
    try ConfusionMatrixFigure(
      values: report.normalizedByTrueClass, classNames: classNames, title: title
    ).pngData()
  }
}

extension String {
  /// The string padded with spaces to `width` characters.
  func padding(_ width: Int) -> String {
    self + String(repeating: " ", count: max(0, width - count))
  }
}

/// Data read for a saved model, its images brought to the model's input shape.
///
/// `explain --image` converts one image to the model's input (channels, then an antialiased
/// resize); `predict`, `evaluate`, `ambiguous` and `embed` do the same for every row of a dataset
/// with an image shape, so a folder of 64×64 colour images can be scored by a model trained on
/// 28×28 grey ones. A folder of mixed sizes is read at the model's size directly. Rows that are
/// not images must already have the model's width (`checkFeatureCount` says so otherwise).
enum ModelInput {
  /// Reads `path` (reporting skipped files) and conforms it to `inputShape` when that is given;
  /// prints one line when anything was converted.
  static func read(
    _ path: String, options: ReadOptions, inputShape: ImageShape?,
    targetName: String = "the model's input"
  ) throws -> DatasetReading {
    var reading: DatasetReading
    var mixedSizes = false
    do {
      reading = try DatasetReader.read(path, options: options)
    } catch DataError.inconsistentImageSizes where inputShape != nil && options.size == nil {
      // The model fixes the size: no need for the user to pick one with --size.
      var sized = options
      if let inputShape { sized.size = (inputShape.height, inputShape.width) }
      reading = try DatasetReader.read(path, options: sized)
      mixedSizes = true
    }
    reportSkipped(reading.skipped)
    guard let inputShape, let shape = reading.dataset.imageShape, shape != inputShape || mixedSizes
    else {
      return reading
    }
    let conformed = conform(reading.dataset, to: inputShape)
    let what =
      mixedSizes
      ? "images of several sizes" : "\(shape.height)×\(shape.width)×\(shape.channels) images"
    let verb =
      shape.height != inputShape.height || shape.width != inputShape.width || mixedSizes
      ? "resized (antialiased)" : "converted"
    print(
      "\(path): \(verb) \(conformed.count) \(what) to \(targetName) \(inputShape.height)×\(inputShape.width)×\(inputShape.channels)"
    )
    reading.dataset = conformed
    return reading
  }

  /// The dataset's images converted to `target`'s channels (grey ↔ RGB), then resized to its
  /// height and width; unchanged when its images cannot take that shape.
  static func conform(_ data: Dataset, to target: ImageShape) -> Dataset {
    guard let shape = data.imageShape, shape != target,
      target.channels == 1 || target.channels == 3,
      shape.channels == 1 || shape.channels == 3
    else { return data }
    // 8-bit images of the model's size whose grey is repeated into RGB stay 8-bit codes (the
    // same values as converting their doubles); anything resized or made grey is `Double`.
    if let pixels = data.pixelCodes, shape.height == target.height, shape.width == target.width,
      shape.channels == 1, target.channels == 3
    {
      let plane = shape.pixelCount
      var codes = [UInt8](repeating: 0, count: data.count * target.valueCount)
      for index in 0..<data.count * plane {
        let code = pixels.codes[index]
        codes[3 * index] = code
        codes[3 * index + 1] = code
        codes[3 * index + 2] = code
      }
      return Dataset(
        rows: .pixels(PixelRows(rows: data.count, columns: target.valueCount, codes: codes)),
        labels: data.labels, classNames: data.classNames, imageShape: target, sources: data.sources)
    }
    let rows = parallelMap(data.count) { row -> [Double] in
      var image = Image(shape: shape, pixels: data.values(ofRow: row)).converted(
        toChannels: target.channels)
      if image.height != target.height || image.width != target.width {
        image = image.resized(height: target.height, width: target.width)
      }
      return image.pixels
    }
    return Dataset(
      features: Matrix(rows: data.count, columns: target.valueCount, storage: rows.flatMap { $0 }),
      labels: data.labels, classNames: data.classNames, imageShape: target, sources: data.sources)
  }
}

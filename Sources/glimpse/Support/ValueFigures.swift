import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseRender
import GlimpseValuation

/// The pictures of a valuation: the data sheet and the point-removal curve.
enum ValueFigures {
  /// The lowest- and highest-valued training images with labels and values.
  static func sheet(
    _ result: ValuationResult, training: Dataset, flipped: [Bool]?, cleanLabels: [Int]?, count: Int,
    title: String
  ) throws -> [UInt8] {
    guard let shape = training.imageShape else {
      throw CommandFailure(message: "the data sheet needs images; these rows have no image shape (pass --shape HxW)", status: 64)
    }
    let order = result.ascendingOrder
    func item(_ row: Int) -> DataValueSheet.Item {
      let bad = flipped?[row] ?? false
      let note = bad ? cleanLabels.map { "flipped, was \(training.classNames[$0[row]])" } ?? "flipped" : nil
      return DataValueSheet.Item(
        image: Image(shape: shape, pixels: Array(training.features.row(row))),
        label: training.classNames[training.labels[row]], value: result.values[row], note: note, flagged: bad)
    }
    let shown = min(count, training.count / 2)
    let lowest = order.prefix(shown).map(item)
    let highest = order.suffix(shown).reversed().map(item)
    var subtitle = "\(result.method) values of \(training.count) training points"
    if let flipped {
      let detection = NoiseDetection(values: result.values, bad: flipped)
      subtitle += "; red frame: a flipped label (\(detection.lowestTenPercentHits) of the lowest \(detection.lowestTenPercentCount) are flipped, ROC AUC \(formatFixed(detection.rocAUC, digits: 3)))"
    }
    let images = (lowest + highest).map(\.image)
    let sheet = DataValueSheet(
      title: title, subtitle: subtitle, lowest: lowest, highest: highest,
      invert: ContactSheet.prefersInverted(images), columns: min(max(shown, 1), 10))
    return try sheet.pngData()
  }

  /// Fractions of the training points removed along the curve.
  static let removalFractions = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]

  /// Accuracy of `model` retrained without the lowest-, highest-valued or random points.
  static func removalCurve(
    _ result: ValuationResult, training: Dataset, evaluation: Dataset, evaluationName: String,
    model: ValuationModelOptions
  ) throws -> (PointRemovalCurves, [UInt8]) {
    let fractions = removalFractions
    let curves = try model.withLearner(
      training: training, validation: evaluation,
      RemovalCurves(values: result.values, fractions: fractions))
    let figure = PointRemovalFigure(
      title: "Removing training points by \(result.method) value",
      subtitle: "\(model.summary) retrained on what is left of \(training.count) points, scored on \(evaluationName)",
      yLabel: "accuracy", fractions: fractions,
      series: PointRemovalFigure.standardSeries(
        lowestFirst: curves.lowestFirst, highestFirst: curves.highestFirst, random: curves.random))
    return (curves, try figure.pngData())
  }

  /// Point-removal curves of a learner's utility.
  private struct RemovalCurves: LearnerBody {
    let values: [Double]
    let fractions: [Double]

    func run<L: Learner>(_ learner: L) -> PointRemovalCurves {
      PointRemovalCurves.compute(ModelUtility(learner), values: values, fractions: fractions)
    }
  }
}

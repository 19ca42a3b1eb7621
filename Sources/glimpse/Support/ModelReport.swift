import GlimpseCore
import GlimpseModels
import GlimpseRender

/// What `train` and `evaluate` print about a model on labelled data.
enum ModelReport {
  /// Lines: accuracy and macro F1 (and for an SVM the probability-argmax rule beside the vote).
  static func lines(_ model: any Classifier, on data: Dataset, name: String) -> (lines: [String], report: ClassificationReport) {
    let probabilities = model.predictProbabilities(data.features)
    let predicted = model.predict(data.features)
    let report = ClassificationReport(truth: data.labels, predicted: predicted, classCount: model.classNames.count)
    var lines = ["\(name): \(data.count) rows, accuracy \(formatFixed(report.accuracy, digits: 4)), macro F1 \(formatFixed(report.macroF1, digits: 4))"]
    if model is SVMClassifier {
      let argmax = probabilities.argmaxRows()
      let byProbability = ClassificationReport(truth: data.labels, predicted: argmax, classCount: model.classNames.count)
      let disagreements = zip(argmax, predicted).filter { $0 != $1 }.count
      lines[0] += " (one-vs-one votes)"
      lines.append("  argmax of probabilities: accuracy \(formatFixed(byProbability.accuracy, digits: 4)); differs from the vote on \(disagreements) rows")
    }
    return (lines, report)
  }

  /// Per-class precision, recall and F1.
  static func perClass(_ report: ClassificationReport, classNames: [String]) -> [String] {
    let width = max(5, classNames.map(\.count).max() ?? 0)
    var lines = ["  " + "class".padding(width) + "  precision  recall  f1      rows"]
    for (c, name) in classNames.enumerated() {
      lines.append("  " + name.padding(width) + "  " + formatFixed(report.precision[c], digits: 3).padding(9)
        + "  " + formatFixed(report.recall[c], digits: 3).padding(6) + "  " + formatFixed(report.f1[c], digits: 3).padding(6)
        + "  \(report.counts[c].reduce(0, +))")
    }
    return lines
  }

  /// The confusion matrix figure, normalised by true class.
  static func confusionPNG(_ report: ClassificationReport, classNames: [String], title: String) throws -> [UInt8] {
    try ConfusionMatrixFigure(values: report.normalizedByTrueClass, classNames: classNames, title: title).pngData()
  }
}

extension String {
  /// The string padded with spaces to `width` characters.
  func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// A confusion matrix normalised by true class: row t shows where the rows of class t went, so
/// the diagonal is each class's recall. Cells are shaded white to blue and carry their value.
public struct ConfusionMatrixFigure: Sendable {
  /// `values[t][p]`, each row summing to 1 (or all 0 for a class without rows).
  public var values: [[Double]]
  /// Class names, in index order.
  public var classNames: [String]
  /// The heading (model, data, accuracy).
  public var title: String
  /// The name of the rows' axis (left).
  public var rowAxisLabel = "true class"
  /// The name of the columns' axis (below).
  public var columnAxisLabel = "predicted class"
  /// Text for each cell in place of the value (e.g. counts of a cross-tabulation), or nil.
  public var cellLabels: [[String]]?

  /// A figure of a row-normalised confusion matrix.
  public init(values: [[Double]], classNames: [String], title: String) {
    precondition(
      values.count == classNames.count && values.allSatisfy { $0.count == classNames.count },
      "values must be \(classNames.count)×\(classNames.count)")
    self.values = values
    self.classNames = classNames
    self.title = title
  }

  /// The figure as PNG bytes.
  public func pngData() throws(RenderError) -> [UInt8] {
    let k = max(classNames.count, 1)
    let cell = Double(max(14, min(52, 560 / k)))
    let labelWidth = min(140.0, Double((classNames.map(\.count).max() ?? 1)) * 8 + 16)
    let left = 40 + labelWidth
    let top = 56.0
    let width = Int(left + Double(k) * cell + 24)
    let height = Int(top + Double(k) * cell + 56)
    let canvas = try Canvas(width: width, height: height)
    canvas.text(
      title, centerX: Double(width) / 2, baseline: 26, size: 15, bold: true,
      maxWidth: Double(width) - 20)
    let showNumbers = cell >= 30
    for t in 0..<classNames.count {
      for p in 0..<classNames.count {
        let value = values[t][p].isFinite ? min(max(values[t][p], 0), 1) : 0
        let x = left + Double(p) * cell
        let y = top + Double(t) * cell
        canvas.fillRectangle(x: x, y: y, width: cell, height: cell, color: Palette.blues(value))
        if let cellLabels {
          canvas.text(
            cellLabels[t][p], centerX: x + cell / 2, baseline: y + cell / 2 + 4,
            size: min(cell * 0.3, cell * 1.6 / Double(max(cellLabels[t][p].count, 1))),
            color: value > 0.5 ? RGB(1, 1, 1) : RGB(0.1, 0.1, 0.1))
        } else if showNumbers && value >= 0.005 {
          let text = value >= 0.995 ? "1" : "." + String(Int((value * 100).rounded())).leftPadded(2)
          canvas.text(
            text, centerX: x + cell / 2, baseline: y + cell / 2 + 4, size: cell * 0.3,
            color: value > 0.5 ? RGB(1, 1, 1) : RGB(0.1, 0.1, 0.1))
        }
      }
      // Row labels (true class) on the left, column labels (predicted) below.
      canvas.text(
        classNames[t], centerX: left - labelWidth / 2 - 4,
        baseline: top + (Double(t) + 0.5) * cell + 4,
        size: 12, maxWidth: labelWidth - 8)
      canvas.text(
        classNames[t], centerX: left + (Double(t) + 0.5) * cell,
        baseline: top + Double(k) * cell + 16, size: 12, maxWidth: cell - 2)
    }
    canvas.strokeRectangle(
      x: left, y: top, width: Double(k) * cell, height: Double(k) * cell, gray: 0.6)
    canvas.text(
      columnAxisLabel, centerX: left + Double(k) * cell / 2,
      baseline: Double(height) - 10, size: 13, bold: true)
    canvas.text(
      rowAxisLabel, centerX: 18, baseline: top + Double(k) * cell / 2, size: 13, bold: true,
      color: RGB(0, 0, 0), angle: -Double.pi / 2)
    return try canvas.pngData()
  }
}

extension String {
  func leftPadded(_ width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}

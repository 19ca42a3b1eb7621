/// Predicted class probabilities of every row (out-of-fold, for confident learning): `rows` ×
/// `classes.count` values, row-major, each row's class probabilities in `classes` order.
public struct ClassProbabilities: Sendable, Equatable {
  /// The class names, one per column.
  public var classes: [String]
  /// The probabilities, row-major.
  public var values: [Double]

  /// Probabilities for `classes`, `values.count` a multiple of the class count.
  /// - Precondition: `classes` is not empty and `values` fills whole rows.
  public init(classes: [String], values: [Double]) {
    precondition(!classes.isEmpty && values.count % classes.count == 0, "whole rows of classes")
    self.classes = classes
    self.values = values
  }

  /// The number of rows.
  public var rows: Int { values.count / classes.count }

  /// The number of classes.
  public var classCount: Int { classes.count }

  /// Row `row`'s probabilities.
  public func row(_ row: Int) -> ArraySlice<Double> {
    values[(row * classes.count)..<((row + 1) * classes.count)]
  }

  /// The probability of class `column` for row `row`.
  public subscript(row: Int, column: Int) -> Double { values[row * classes.count + column] }

  /// The first class of highest probability in row `row` (numpy's `argmax`).
  public func argmax(_ row: Int) -> Int {
    var best = 0
    let base = row * classes.count
    for column in 1..<classes.count where values[base + column] > values[base + best] {
      best = column
    }
    return best
  }

  /// The gap between row `row`'s two highest probabilities (0 = a tie between two classes, 1 =
  /// certain): how ambiguous the model finds the image.
  public func topTwoMargin(_ row: Int) -> Double {
    var first = -Double.infinity
    var second = -Double.infinity
    for value in self.row(row) {
      if value > first {
        second = first
        first = value
      } else if value > second {
        second = value
      }
    }
    return classes.count < 2 ? 1 : first - second
  }
}

import GlimpseCore

/// Accuracy, per-class precision, recall and F1, and the confusion matrix of predictions.
///
/// Definitions are scikit-learn's: macro F1 is the unweighted mean of the per-class F1 over the
/// classes that occur in the truth or the predictions, and a class with no predicted (or no true)
/// rows has precision (or recall) 0.
public struct ClassificationReport: Sendable, Equatable {
  /// `counts[t][p]`: rows of true class t predicted as p.
  public let counts: [[Int]]

  /// Tallies predictions against the truth; both are class indices below `classCount`.
  public init(truth: [Int], predicted: [Int], classCount: Int) {
    precondition(
      truth.count == predicted.count,
      "truth (\(truth.count)) and predictions (\(predicted.count)) differ in length")
    var counts = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
    for (t, p) in zip(truth, predicted) { counts[t][p] += 1 }
    self.counts = counts
  }

  /// Number of rows.
  public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }

  /// Fraction of rows predicted correctly.
  public var accuracy: Double {
    total == 0 ? 0 : Double(counts.indices.reduce(0) { $0 + counts[$1][$1] }) / Double(total)
  }

  /// Precision of each class.
  public var precision: [Double] {
    counts.indices.map { c in
      let predicted = counts.reduce(0) { $0 + $1[c] }
      return predicted == 0 ? 0 : Double(counts[c][c]) / Double(predicted)
    }
  }

  /// Recall of each class.
  public var recall: [Double] {
    counts.indices.map { c in
      let actual = counts[c].reduce(0, +)
      return actual == 0 ? 0 : Double(counts[c][c]) / Double(actual)
    }
  }

  /// F1 of each class.
  public var f1: [Double] {
    zip(precision, recall).map { p, r in p + r == 0 ? 0 : 2 * p * r / (p + r) }
  }

  /// Mean F1 over the classes present in the truth or the predictions.
  public var macroF1: Double {
    let present = counts.indices.filter { c in
      counts[c].reduce(0, +) > 0 || counts.reduce(0) { $0 + $1[c] } > 0
    }
    guard !present.isEmpty else { return 0 }
    let scores = f1
    return present.reduce(0) { $0 + scores[$1] } / Double(present.count)
  }

  /// The confusion matrix with each row divided by its total (rows of absent classes stay 0).
  public var normalizedByTrueClass: [[Double]] {
    counts.map { row in
      let total = row.reduce(0, +)
      return row.map { total == 0 ? 0 : Double($0) / Double(total) }
    }
  }
}

/// How a model's validation predictions become one number.
public enum ValidationScore: String, Sendable, Codable, CaseIterable {
  /// The fraction of validation points predicted correctly (the default, as in DShap and pyDVL).
  case accuracy
  /// The mean over classes present in the validation set of each class's recall
  /// (scikit-learn's `balanced_accuracy_score`), for imbalanced validation sets.
  case balancedAccuracy = "balanced-accuracy"
  /// The unweighted mean over classes present in the validation labels or the predictions of
  /// each class's F1 (scikit-learn's `f1_score(average="macro")`, 0 for a class without hits).
  case macroF1 = "macro-f1"

  /// The score of `predictions` against `truth`.
  public func score(_ predictions: [Int], truth: [Int]) -> Double {
    precondition(predictions.count == truth.count, "one prediction per validation point")
    guard !truth.isEmpty else { return 0 }
    switch self {
    case .accuracy:
      return Double(zip(predictions, truth).count { $0 == $1 }) / Double(truth.count)
    case .balancedAccuracy:
      var hits: [Int: Int] = [:]
      var totals: [Int: Int] = [:]
      for (predicted, actual) in zip(predictions, truth) {
        totals[actual, default: 0] += 1
        if predicted == actual { hits[actual, default: 0] += 1 }
      }
      // Summed in ascending class order: a Dictionary's order changes from process to
      // process (Swift seeds its hashing per run), and so did the last bit of the sum.
      let recalls = totals.keys.sorted().map { Double(hits[$0, default: 0]) / Double(totals[$0]!) }
      return recalls.reduce(0, +) / Double(recalls.count)
    case .macroF1:
      var truePositives: [Int: Int] = [:]
      var predictedCounts: [Int: Int] = [:]
      var actualCounts: [Int: Int] = [:]
      for (predicted, actual) in zip(predictions, truth) {
        predictedCounts[predicted, default: 0] += 1
        actualCounts[actual, default: 0] += 1
        if predicted == actual { truePositives[actual, default: 0] += 1 }
      }
      // Ascending class order, for the same reason as above: a Set's order varies per process.
      let classes = Set(predictedCounts.keys).union(actualCounts.keys).sorted()
      let f1 = classes.map { label -> Double in
        let hits = Double(truePositives[label, default: 0])
        let denominator = Double(
          predictedCounts[label, default: 0] + actualCounts[label, default: 0])
        return denominator == 0 ? 0 : 2 * hits / denominator
      }
      return f1.reduce(0, +) / Double(classes.count)
    }
  }
}

/// The class-wise score of Schoch, Xu & Ji (2022), eq. 5, as pyDVL 0.10 defines it
/// (`ClasswiseSupervisedScorer` with accuracy, rescaling on): for label c,
///
///     u_c = a_in · exp(a_out),  a_in = (hits on D_c)/|D|,  a_out = (hits on D_−c)/|D|,
///
/// i.e. the in-class and out-of-class accuracies rescaled by |D_c|/|D| and |D_−c|/|D|. With no
/// validation point of class c it is 0 · exp(1/max(1, classes − 1)) = 0 as in pyDVL.
public struct ClasswiseScore: Sendable {
  /// The validation labels (class indices) the score counts hits on.
  public let validationLabels: [Int]

  /// The class-wise score on validation points labelled `validationLabels`.
  public init(validationLabels: [Int]) { self.validationLabels = validationLabels }

  /// (a_in, a_out) for `label`.
  public func inAndOutOfClass(_ predictions: [Int], label: Int) -> (
    inClass: Double, outOfClass: Double
  ) {
    let total = Double(validationLabels.count)
    guard validationLabels.contains(label) else {
      let classes = Set(validationLabels).count
      return (0, 1 / Double(max(1, classes - 1)))
    }
    var inHits = 0
    var outHits = 0
    for (predicted, actual) in zip(predictions, validationLabels) where predicted == actual {
      if actual == label { inHits += 1 } else { outHits += 1 }
    }
    return (Double(inHits) / total, Double(outHits) / total)
  }

  /// u_c = a_in · exp(a_out) of `predictions` (one per validation point) for class `label`.
  public func score(_ predictions: [Int], label: Int) -> Double {
    let (inClass, outOfClass) = inAndOutOfClass(predictions, label: label)
    return inClass * _exp(outOfClass)
  }
}

#if canImport(Glibc)
  import Glibc
  @inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
  import Foundation
  @inline(__always) func _exp(_ x: Double) -> Double { Foundation.exp(x) }
#endif

import GlimpseCore
import GlimpseModels

/// Out-of-fold predicted probabilities, what confident learning needs: each row scored by a
/// model that never saw it (Northcutt et al. 2021, section 4: "out-of-sample predicted
/// probabilities ... via cross-validation").
public enum OutOfFold {
  /// Stratified fold numbers: each class's rows shuffled by `seed` and dealt to the folds in
  /// turn, so every fold holds each class in proportion (as scikit-learn's `StratifiedKFold`,
  /// though not its exact assignment).
  /// - Precondition: `count ≥ 2`.
  public static func folds(labels: [Int], count: Int, seed: UInt64) -> [Int] {
    precondition(count >= 2, "at least two folds")
    var generator = SeededGenerator(seed: seed)
    var fold = [Int](repeating: 0, count: labels.count)
    let classes = Set(labels).sorted()
    var next = 0  // carried across classes, so small classes do not all start in fold 0
    for label in classes {
      var rows = labels.indices.filter { labels[$0] == label }
      rows.shuffle(using: &generator)
      for row in rows {
        fold[row] = next
        next = (next + 1) % count
      }
    }
    return fold
  }

  /// Each row's class probabilities from a model trained on the other folds.
  ///
  /// - Parameters:
  ///   - data: The labelled rows.
  ///   - folds: How many folds (`K`); the model is trained `K` times on `K − 1` of them.
  ///   - seed: Drives the fold assignment; fold `f`'s model is fitted with seed `seed + f + 1`.
  ///   - fit: Trains the chosen model on a dataset with a seed.
  ///   - progress: Called with the folds finished.
  /// - Returns: Probabilities in `data.classNames` order (a class missing from a fold's
  ///   training rows gets probability 0 for that fold's rows).
  /// - Throws: `AuditError` for too few rows; whatever `fit` throws.
  public static func probabilities(
    _ data: Dataset, folds: Int, seed: UInt64,
    fit: (Dataset, UInt64) throws -> any Classifier, progress: (Int) -> Void = { _ in }
  ) throws -> ClassProbabilities {
    guard folds >= 2, data.count >= folds else {
      throw AuditError("\(folds) folds need at least \(max(folds, 2)) rows; DATA has \(data.count)")
    }
    let assignment = Self.folds(labels: data.labels, count: folds, seed: seed)
    let classCount = data.classNames.count
    var values = [Double](repeating: 0, count: data.count * classCount)
    for fold in 0..<folds {
      let heldOut = assignment.indices.filter { assignment[$0] == fold }
      let training = assignment.indices.filter { assignment[$0] != fold }
      guard !heldOut.isEmpty else { continue }
      let model = try fit(data.subset(training), seed &+ UInt64(fold) &+ 1)
      let scores = model.predictProbabilities(data.subset(heldOut))
      let column = model.classNames.map { name in data.classNames.firstIndex(of: name) }
      for (position, row) in heldOut.enumerated() {
        for (modelColumn, dataColumn) in column.enumerated() {
          guard let dataColumn else { continue }
          values[row * classCount + dataColumn] = scores[position, modelColumn]
        }
      }
      progress(fold + 1)
    }
    return ClassProbabilities(classes: data.classNames, values: values)
  }
}

import GlimpseCore

/// The training and validation sets of a valuation, the held-out test rows no valuation sees,
/// and, for a noisy-label experiment, which training labels were flipped.
///
/// Built from separate files with `init(training:validation:heldOut:)`, or from one dataset and
/// a split of its rows with `split(_:trainRows:testRows:validationRows:noisyLabels:)` (what
/// `glimpse value --split` and the benchmarks' anchor sets use).
public struct ValuationSets: Sendable {
  /// The points being valued.
  public var training: Dataset
  /// The points the utility scores on.
  public var validation: Dataset
  /// Test rows no valuation used (the rest of a split's test rows), for retraining checks.
  public var heldOut: Dataset?
  /// Which training labels were flipped (with noisy labels), one per training point.
  public var flipped: [Bool]?
  /// The true training labels when noisy ones replaced them, one per training point.
  public var cleanLabels: [Int]?

  /// Sets read separately; no label is known to be flipped.
  public init(
    training: Dataset, validation: Dataset, heldOut: Dataset? = nil, flipped: [Bool]? = nil,
    cleanLabels: [Int]? = nil
  ) {
    self.training = training
    self.validation = validation
    self.heldOut = heldOut
    self.flipped = flipped
    self.cleanLabels = cleanLabels
  }

  /// The sets of a split of `data`'s rows: `trainRows` are valued, the first `validationRows`
  /// of `testRows` validate (all of them when `nil` or more than there are), and the remaining
  /// test rows are held out.
  ///
  /// With `noisyLabels` (class names, one per train row, as a split file's
  /// `noisy.train_labels_noisy`), the training points take those labels instead of their own;
  /// `flipped` marks the points whose label changed and `cleanLabels` keeps the true ones, so
  /// that how well values find the flipped points can be measured.
  ///
  /// - Parameter data: The whole dataset; rows are indices into it (a split file's rows,
  ///   checked against `data.count` by the caller).
  /// - Throws: `ValuationSetsError.noisyLabelCount` when `noisyLabels` does not have one label
  ///   per train row, `.unknownNoisyLabel` when one names no class of `data`.
  public static func split(
    _ data: Dataset, trainRows: [Int], testRows: [Int], validationRows: Int? = nil,
    noisyLabels: [String]? = nil
  ) throws(ValuationSetsError) -> ValuationSets {
    let cut = min(validationRows ?? testRows.count, testRows.count)
    var training = data.subset(trainRows)
    var flipped: [Bool]?
    var cleanLabels: [Int]?
    if let noisyLabels {
      guard noisyLabels.count == trainRows.count else {
        throw .noisyLabelCount(labels: noisyLabels.count, trainRows: trainRows.count)
      }
      let index = Dictionary(uniqueKeysWithValues: data.classNames.enumerated().map { ($1, $0) })
      var mapped: [Int] = []
      mapped.reserveCapacity(noisyLabels.count)
      for (row, label) in noisyLabels.enumerated() {
        guard let target = index[label] else {
          throw .unknownNoisyLabel(label: label, trainRow: row)
        }
        mapped.append(target)
      }
      flipped = zip(mapped, training.labels).map { $0 != $1 }
      cleanLabels = training.labels
      training = training.relabelled(mapped, classNames: training.classNames)
    }
    let heldOut = cut < testRows.count ? data.subset(Array(testRows[cut...])) : nil
    return ValuationSets(
      training: training, validation: data.subset(Array(testRows[..<cut])), heldOut: heldOut,
      flipped: flipped, cleanLabels: cleanLabels)
  }
}

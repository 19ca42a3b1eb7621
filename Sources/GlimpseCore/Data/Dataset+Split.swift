extension Dataset {
  /// A seeded random split: `trainCount` rows to train on and the remaining rows to test on.
  ///
  /// The rows are shuffled with stream 1 of `SeededGenerator(seed:)`; the first `trainCount`
  /// shuffled rows train and the rest test, both in shuffled order (what `glimpse train
  /// --train-size N --seed S` has always used: the same seed gives the same rows).
  ///
  /// - Throws: `DatasetSplitError.noTestRows` when `trainCount` is not below `count`.
  public func randomSplit(trainCount: Int, seed: UInt64) throws(DatasetSplitError) -> (
    train: Dataset, test: Dataset
  ) {
    guard trainCount < count else { throw .noTestRows(trainCount: trainCount, rowCount: count) }
    precondition(trainCount >= 0, "trainCount (\(trainCount)) must be ≥ 0")
    var rng = SeededGenerator(seed: seed).stream(1)
    let order = Array(0..<count).shuffled(using: &rng)
    return (subset(Array(order[..<trainCount])), subset(Array(order[trainCount...])))
  }

  /// Row indices split in two by a seeded shuffle of all rows: the first `trainCount` shuffled
  /// rows train and the rest test, each side in ascending row order (so subsets keep the
  /// data's order). Draws from `rng` exactly as `Array(0..<count).shuffled(using:)` does.
  public func shuffledRows(
    trainCount: Int, using rng: inout some RandomNumberGenerator
  ) -> (train: [Int], test: [Int]) {
    precondition(
      (0...count).contains(trainCount), "trainCount (\(trainCount)) must lie in 0…\(count)")
    let order = Array(0..<count).shuffled(using: &rng)
    return (order[..<trainCount].sorted(), order[trainCount...].sorted())
  }
}

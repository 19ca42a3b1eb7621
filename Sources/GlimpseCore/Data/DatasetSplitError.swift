/// Why a dataset cannot be split as asked (`Dataset.randomSplit(trainCount:seed:)`).
public enum DatasetSplitError: Error, Equatable, Sendable {
  /// A random split asked for `trainCount` training rows of a dataset of `rowCount` rows,
  /// leaving no test row.
  case noTestRows(trainCount: Int, rowCount: Int)
}

/// Why `ValuationSets.split` refused its noisy labels. The messages leave out the file; the
/// caller, which knows it, names it.
public enum ValuationSetsError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The noisy labels do not number one per train row.
  case noisyLabelCount(labels: Int, trainRows: Int)
  /// The noisy label of train row `trainRow` (0-based, among the train rows) names no class of
  /// the dataset.
  case unknownNoisyLabel(label: String, trainRow: Int)

  /// What is wrong, in one line.
  public var description: String {
    switch self {
    case .noisyLabelCount(let labels, let trainRows):
      "\(labels) noisy labels for \(trainRows) train rows"
    case .unknownNoisyLabel(let label, let row):
      "noisy label \(label) of train row \(row) is not a class of the data"
    }
  }
}

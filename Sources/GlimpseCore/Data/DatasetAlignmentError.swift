/// Why a dataset's labels cannot be brought into another class order
/// (`Dataset.aligned(to:)`).
public enum DatasetAlignmentError: Error, Equatable, Sendable {
  /// A row's class `className` is not among `knownClasses` (the order being aligned to).
  case unknownClass(className: String, knownClasses: [String])
}

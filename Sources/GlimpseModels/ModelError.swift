import GlimpseCore

/// Why a model could not be trained, loaded or applied.
public enum ModelError: GlimpseError, Equatable {
  /// Training data the model cannot learn from (fewer than two classes, no rows).
  case unsuitableData(String)
  /// A hyperparameter outside its valid range.
  case invalidHyperparameter(name: String, value: String, expected: String)
  /// A file that is not a Glimpse model, or one that is cut short or damaged.
  case corruptModelFile(String)
  /// A model file written by a newer Glimpse.
  case unsupportedVersion(found: Int, supported: Int)
  /// A model file of another kind than expected.
  case wrongKind(found: String, expected: String)
  /// Data with another number of features than the model was trained on.
  case featureCountMismatch(model: Int, data: Int)

  /// One line saying what is wrong.
  public var description: String {
    switch self {
    case let .unsuitableData(reason):
      "cannot train on this data: \(reason)"
    case let .invalidHyperparameter(name, value, expected):
      "\(name) = \(value) is invalid: expected \(expected)"
    case let .corruptModelFile(reason):
      "not a valid Glimpse model file: \(reason)"
    case let .unsupportedVersion(found, supported):
      "model file format version \(found) is newer than this Glimpse reads (\(supported)); upgrade Glimpse"
    case let .wrongKind(found, expected):
      "model file holds a '\(found)' model, expected '\(expected)'"
    case let .featureCountMismatch(model, data):
      "the model was trained on \(model) features, the data has \(data)"
    }
  }
}

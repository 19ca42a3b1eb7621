/// An error caused by input a user can fix, reported by the CLI as one line.
///
/// Every module's error type conforms, so the command-line tool prints `description` (which
/// names the file, the line and what is wrong) and exits non-zero, without a stack trace.
public protocol GlimpseError: Error, CustomStringConvertible {}

/// A file whose content is malformed or inconsistent, with the reason naming the field or line
/// (`values.csv:7: index 9 appears twice`, `split.json: field 'train[1]' is -1`).
public struct FileContentError: GlimpseError, Equatable {
  /// The file.
  public var path: String
  /// What is wrong, naming the field, line or column; may start with `:LINE`.
  public var reason: String

  /// A malformed file and why.
  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  /// One line saying what is wrong.
  public var description: String {
    reason.hasPrefix(":") ? "\(path)\(reason)" : "\(path): \(reason)"
  }
}

import GlimpseCore

/// Input the audit cannot work with (mismatched label lists, a label off the grade scale), as
/// one line the command-line tool prints before exiting non-zero.
public struct AuditError: GlimpseError, Equatable {
  /// What is wrong.
  public var reason: String

  /// An audit input problem and why.
  public init(_ reason: String) { self.reason = reason }

  /// One line saying what is wrong.
  public var description: String { reason }
}

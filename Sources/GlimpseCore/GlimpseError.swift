/// An error caused by input a user can fix, reported by the CLI as one line.
///
/// Every module's error type conforms, so the command-line tool prints `description` (which
/// names the file, the line and what is wrong) and exits non-zero, without a stack trace.
public protocol GlimpseError: Error, CustomStringConvertible {}

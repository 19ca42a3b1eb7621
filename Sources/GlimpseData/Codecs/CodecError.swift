/// Why bytes could not be decoded or encoded as an image (the caller adds the file's path).
public struct CodecError: Error, Equatable, CustomStringConvertible {
  /// libpng's or libjpeg's own message, or ours.
  public let reason: String
  /// Wraps a reason.
  public init(_ reason: String) { self.reason = reason }
  /// One line saying what is wrong.
  public var description: String { reason }
}

import CCairo
import GlimpseCore

/// A Cairo operation that failed, with Cairo's own explanation.
public struct RenderError: GlimpseError, Equatable {
  /// `cairo_status_to_string` of the failing status, or our reason.
  public let reason: String

  /// Wraps a reason.
  public init(_ reason: String) { self.reason = reason }

  /// The error for a Cairo status, or `nil` for success.
  init?(_ status: cairo_status_t) {
    guard status != CAIRO_STATUS_SUCCESS else { return nil }
    reason = String(cString: cairo_status_to_string(status))
  }

  /// The one-line message: "rendering failed: " and the reason.
  public var description: String { "rendering failed: \(reason)" }
}

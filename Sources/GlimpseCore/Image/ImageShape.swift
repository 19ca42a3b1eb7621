/// Height, width and channel count of an image, as a dataset row is laid out.
///
/// A row of an image dataset holds `height × width × channels` values, row-major with channels
/// interleaved (`(y * width + x) * channels + c`), the layout of a flattened MNIST digit or a
/// NumPy `H×W×C` array.
public struct ImageShape: Sendable, Hashable, Codable, CustomStringConvertible {
  /// Rows of pixels.
  public var height: Int
  /// Pixels per row.
  public var width: Int
  /// Values per pixel: 1 grey, 3 RGB (2 and 4 add alpha).
  public var channels: Int

  /// Creates a shape; every dimension must be positive.
  public init(height: Int, width: Int, channels: Int = 1) {
    precondition(
      height > 0 && width > 0 && channels > 0,
      "image shape \(height)×\(width)×\(channels) must be positive")
    self.height = height
    self.width = width
    self.channels = channels
  }

  /// Parses `HxW` or `HxWxC` (also with `×`), as the CLI's `--shape 32x32x3` and `--size 28x28`.
  /// Returns `nil` when the text is not of that form.
  public init?(parsing text: String) {
    let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" })
    guard parts.count == 2 || parts.count == 3,
      let height = Int(parts[0]), let width = Int(parts[1]),
      let channels = parts.count == 3 ? Int(parts[2]) : 1,
      height > 0, width > 0, channels > 0, channels <= 4
    else { return nil }
    self.init(height: height, width: width, channels: channels)
  }

  /// Values in one image: `height × width × channels`.
  public var valueCount: Int { height * width * channels }

  /// Pixels in one image: `height × width`.
  public var pixelCount: Int { height * width }

  /// `28×28×1` style.
  public var description: String { "\(height)×\(width)×\(channels)" }

  /// The square grey shape whose value count is `valueCount` (784 → 28×28×1), if there is one.
  public static func inferredSquare(valueCount: Int) -> ImageShape? {
    guard valueCount >= 4 else { return nil }
    let side = Int(Double(valueCount).squareRoot().rounded())
    return side * side == valueCount ? ImageShape(height: side, width: side, channels: 1) : nil
  }
}

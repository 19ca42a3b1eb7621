/// A raster image with `Double` samples, row-major with interleaved channels.
///
/// Sample `(x, y, c)` lives at `pixels[(y * width + x) * channels + c]`. Values are usually in
/// [0, 1] (pixels read from files are scaled so), but nothing here requires it.
public struct Image: Sendable, Equatable {
  /// The image's dimensions.
  public let shape: ImageShape
  /// `shape.valueCount` samples.
  public var pixels: [Double]

  /// Wraps samples laid out as `shape` says.
  /// - Precondition: `pixels.count == shape.valueCount`.
  public init(shape: ImageShape, pixels: [Double]) {
    precondition(
      pixels.count == shape.valueCount,
      "pixels.count (\(pixels.count)) != \(shape) = \(shape.valueCount)")
    self.shape = shape
    self.pixels = pixels
  }

  /// An image of one colour.
  public init(shape: ImageShape, repeating value: Double) {
    self.init(shape: shape, pixels: [Double](repeating: value, count: shape.valueCount))
  }

  /// Width in pixels.
  public var width: Int { shape.width }
  /// Height in pixels.
  public var height: Int { shape.height }
  /// Samples per pixel.
  public var channels: Int { shape.channels }

  /// The sample of channel `c` at column `x`, row `y`.
  @inlinable
  public subscript(x: Int, y: Int, c: Int) -> Double {
    get { pixels[(y * shape.width + x) * shape.channels + c] }
    set { pixels[(y * shape.width + x) * shape.channels + c] = newValue }
  }

  /// The samples quantised to 8 bits, `round(v × 255)` clamped to 0…255.
  public func eightBitSamples() -> [UInt8] {
    pixels.map { value in
      let scaled = (value * 255).rounded()
      return scaled.isNaN ? 0 : UInt8(min(max(scaled, 0), 255))
    }
  }

  /// An image from 8-bit samples, scaled to [0, 1] by `x / 255`.
  public init(shape: ImageShape, eightBitSamples samples: [UInt8]) {
    self.init(shape: shape, pixels: samples.map { Double($0) / 255 })
  }
}

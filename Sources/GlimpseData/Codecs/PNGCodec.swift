import CPNG
import GlimpseCore

/// Reads and writes PNG with libpng.
///
/// Decoding accepts every PNG colour type and depth: palette and 1/2/4-bit grey are expanded to
/// 8 bits, a tRNS chunk becomes an alpha channel, 16-bit samples keep their precision. Samples
/// are scaled to [0, 1] (`x / 255` or `x / 65535`); no gamma conversion is applied, so the
/// values are the stored ones, as Pillow and imageio return them.
public enum PNGCodec {
  /// Decodes PNG bytes to an image with 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels.
  /// An image whose header claims more than `maxPixels` pixels is refused before any of it is
  /// inflated or allocated.
  public static func decode(
    _ bytes: [UInt8], maxPixels: Int = ReadLimits.defaultMaxPixels
  ) throws(CodecError) -> Image {
    try decodeSamples(bytes, maxPixels: maxPixels).image
  }

  /// Decodes PNG bytes to their samples as stored: the 8-bit codes of an 8-bit (or expanded
  /// palette / low-depth) image, without a `Double` copy; a 16-bit image scaled by `x / 65535`.
  public static func decodeSamples(
    _ bytes: [UInt8], maxPixels: Int = ReadLimits.defaultMaxPixels
  ) throws(CodecError) -> DecodedSamples {
    var decoded = cshim_png_image()
    let ok = bytes.withUnsafeBufferPointer { buffer in
      cshim_png_decode(buffer.baseAddress, buffer.count, UInt64(max(maxPixels, 0)), &decoded)
    }
    guard ok == 1, let pixels = decoded.pixels else {
      throw CodecError(message(of: &decoded.message))
    }
    defer { free(pixels) }
    let shape = ImageShape(
      height: Int(decoded.height), width: Int(decoded.width), channels: Int(decoded.channels))
    let count = shape.valueCount
    guard decoded.bitDepth == 16 else {
      return .eightBit(shape: shape, codes: Array(UnsafeBufferPointer(start: pixels, count: count)))
    }
    var samples = [Double](repeating: 0, count: count)
    pixels.withMemoryRebound(to: UInt16.self, capacity: count) { wide in
      for index in 0..<count { samples[index] = Double(wide[index]) / 65535 }
    }
    return .image(Image(shape: shape, pixels: samples))
  }

  /// Encodes an image with 1 to 4 channels as an 8-bit PNG (values quantised by `round(v·255)`).
  public static func encode(_ image: Image) throws(CodecError) -> [UInt8] {
    let samples = image.eightBitSamples()
    var output: UnsafeMutablePointer<UInt8>?
    var size = 0
    var reason = [CChar](repeating: 0, count: 256)
    let ok = samples.withUnsafeBufferPointer { buffer in
      reason.withUnsafeMutableBufferPointer { text in
        cshim_png_encode(
          buffer.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
          &output, &size, text.baseAddress, text.count)
      }
    }
    guard ok == 1, let output else {
      throw CodecError(reason.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }
    defer { free(output) }
    return Array(UnsafeBufferPointer(start: output, count: size))
  }
}

/// The NUL-terminated C string in a fixed-size C array, as a Swift string.
func message<T>(of tuple: inout T) -> String {
  withUnsafeBytes(of: &tuple) { raw in
    let bytes = raw.prefix { $0 != 0 }
    return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
  }
}

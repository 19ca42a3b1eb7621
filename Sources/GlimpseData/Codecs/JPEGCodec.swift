import CJPEG
import GlimpseCore

/// Reads and writes JPEG with libjpeg-turbo.
///
/// Decoding gives grey or RGB (YCbCr is converted by libjpeg); a file cut short or with corrupt
/// data is an error, not an image padded with grey as libjpeg would return it. CMYK files are
/// refused.
public enum JPEGCodec {
  /// Decodes JPEG bytes to a grey (1 channel) or RGB (3 channels) image with samples `x / 255`.
  /// An image whose header claims more than `maxPixels` pixels is refused before decoding; a
  /// truncated file or corrupt entropy-coded data is an error, not grey padding.
  public static func decode(
    _ bytes: [UInt8], maxPixels: Int = ReadLimits.defaultMaxPixels
  ) throws(CodecError) -> Image {
    try decodeSamples(bytes, maxPixels: maxPixels).image
  }

  /// Decodes JPEG bytes to their 8-bit codes, without a `Double` copy.
  public static func decodeSamples(
    _ bytes: [UInt8], maxPixels: Int = ReadLimits.defaultMaxPixels
  ) throws(CodecError) -> DecodedSamples {
    var decoded = cshim_jpeg_image()
    let ok = bytes.withUnsafeBufferPointer { buffer in
      cshim_jpeg_decode(buffer.baseAddress, buffer.count, UInt64(max(maxPixels, 0)), &decoded)
    }
    guard ok == 1, let pixels = decoded.pixels else {
      throw CodecError(message(of: &decoded.message))
    }
    defer { free(pixels) }
    let shape = ImageShape(
      height: Int(decoded.height), width: Int(decoded.width), channels: Int(decoded.channels))
    return .eightBit(
      shape: shape, codes: Array(UnsafeBufferPointer(start: pixels, count: shape.valueCount)))
  }

  /// Encodes an image as a baseline JPEG; an alpha channel is dropped (JPEG has none).
  /// - Parameter quality: libjpeg's quality scale, 1–100.
  public static func encode(_ image: Image, quality: Int = 90) throws(CodecError) -> [UInt8] {
    let opaque =
      image.channels == 2 || image.channels == 4
      ? image.converted(toChannels: image.channels == 2 ? 1 : 3) : image
    let samples = opaque.eightBitSamples()
    var output: UnsafeMutablePointer<UInt8>?
    var size = 0
    var reason = [CChar](repeating: 0, count: 256)
    let ok = samples.withUnsafeBufferPointer { buffer in
      reason.withUnsafeMutableBufferPointer { text in
        cshim_jpeg_encode(
          buffer.baseAddress, UInt32(opaque.width), UInt32(opaque.height),
          UInt32(opaque.channels), Int32(min(max(quality, 1), 100)), &output, &size,
          text.baseAddress, text.count)
      }
    }
    guard ok == 1, let output else {
      throw CodecError(
        reason.withUnsafeBufferPointer {
          String(decoding: UnsafeRawBufferPointer($0).prefix { $0 != 0 }, as: UTF8.self)
        })
    }
    defer { free(output) }
    return Array(UnsafeBufferPointer(start: output, count: size))
  }
}

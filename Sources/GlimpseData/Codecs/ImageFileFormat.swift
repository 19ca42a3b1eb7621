import GlimpseCore

/// The image file formats Glimpse reads and writes.
public enum ImageFileFormat: String, Sendable, CaseIterable {
  /// Portable Network Graphics (lossless).
  case png
  /// JPEG (lossy).
  case jpeg

  /// The format a file name's extension names (`.png`, `.jpg`, `.jpeg`, any case), if any.
  public init?(pathExtensionOf path: String) {
    guard let dot = path.lastIndex(of: ".") else { return nil }
    switch path[path.index(after: dot)...].lowercased() {
    case "png": self = .png
    case "jpg", "jpeg": self = .jpeg
    default: return nil
    }
  }

  /// The extension written for this format.
  public var fileExtension: String { self == .png ? "png" : "jpg" }

  /// Decodes bytes; the format is taken from the bytes' signature when it disagrees with the
  /// name (a `.jpg` that is really a PNG still reads). A header claiming more than `maxPixels`
  /// pixels is refused before anything is allocated; the default is the CLI's `--max-pixels`
  /// default, so every caller (`explain --image` too) gets the same limit.
  public static func decode(
    _ bytes: [UInt8], maxPixels: Int = ReadLimits.defaultMaxPixels
  ) throws(CodecError) -> Image {
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
      return try PNGCodec.decode(bytes, maxPixels: maxPixels)
    }
    if bytes.starts(with: [0xFF, 0xD8]) {
      return try JPEGCodec.decode(bytes, maxPixels: maxPixels)
    }
    throw CodecError("not a PNG or JPEG file (unrecognised signature)")
  }

  /// Decodes bytes (as `decode`) to their samples as stored: 8-bit codes for 8-bit files (every
  /// JPEG, most PNGs), so that a folder reader keeps 1 byte a sample.
  public static func decodeSamples(
    _ bytes: [UInt8], maxPixels: Int = ReadLimits.defaultMaxPixels
  ) throws(CodecError) -> DecodedSamples {
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) {
      return try PNGCodec.decodeSamples(bytes, maxPixels: maxPixels)
    }
    if bytes.starts(with: [0xFF, 0xD8]) {
      return try JPEGCodec.decodeSamples(bytes, maxPixels: maxPixels)
    }
    throw CodecError("not a PNG or JPEG file (unrecognised signature)")
  }

  /// Encodes an image in this format.
  public func encode(_ image: Image, jpegQuality: Int = 90) throws(CodecError) -> [UInt8] {
    switch self {
    case .png: try PNGCodec.encode(image)
    case .jpeg: try JPEGCodec.encode(image, quality: jpegQuality)
    }
  }
}

/// A decoded image's samples: the file's 8-bit codes, or (16-bit PNG) the image scaled to [0, 1].
public enum DecodedSamples: Sendable {
  /// 8-bit codes, `shape.valueCount` of them, with channels interleaved; value `Double(k) / 255`.
  case eightBit(shape: ImageShape, codes: [UInt8])
  /// Samples that are not 8-bit codes.
  case image(Image)

  /// The image's dimensions.
  public var shape: ImageShape {
    switch self {
    case .eightBit(let shape, _): shape
    case .image(let image): image.shape
    }
  }

  /// The samples as an image, `Double(k) / 255` for codes (as `Image(shape:eightBitSamples:)`).
  public var image: Image {
    switch self {
    case .eightBit(let shape, let codes): Image(shape: shape, eightBitSamples: codes)
    case .image(let image): image
    }
  }

  /// Bytes the samples take in memory.
  public var byteCount: Int {
    switch self {
    case .eightBit(_, let codes): codes.count
    case .image(let image): image.pixels.count * MemoryLayout<Double>.stride
    }
  }
}

import GlimpseCore

/// Segment maps as bytes, for the command line's segmentation cache: a map computed once is
/// read back on the next run of the same image instead of being segmented again.
///
/// The bytes are one gzip member (`FileBytes.gzip`, whose CRC-32 and length trailer catch a
/// flipped or truncated file) around:
///
/// | field | bytes |
/// |---|---|
/// | magic `GLSEGMAP` | 8 |
/// | format version (1) | 4, little-endian, as every number below |
/// | width, height, segment count | 4 each |
/// | bytes per label: 1 (count ≤ 256), 2 (≤ 65 536) or 4 | 4 |
/// | key length, key (UTF-8) | 4 + length |
/// | labels, row-major | width × height × bytes per label |
///
/// The key is what the cache filed the map under (the image's digest and the segmenter spec):
/// decoding checks it, so a file copied or renamed to another key is not taken for that key's map.
/// Decoding trusts nothing: every field is checked, the labels must be exactly `0..<count`
/// with each present (as `SegmentMap` promises), and any mismatch is a `CodecError`.
public enum SegmentMapCodec {
  static let magic = Array("GLSEGMAP".utf8)
  static let version: UInt32 = 1

  /// The encoded map, filed under `key`.
  public static func encode(_ map: SegmentMap, key: String) -> [UInt8] {
    FileBytes.gzip(payload(map, key: key), level: 6)
  }

  /// The uncompressed payload (see the table above).
  static func payload(_ map: SegmentMap, key: String) -> [UInt8] {
    let labelBytes = bytesPerLabel(count: map.count)
    let keyBytes = Array(key.utf8)
    var bytes = magic
    bytes.reserveCapacity(36 + keyBytes.count + map.labels.count * labelBytes)
    for field in [
      version, UInt32(map.width), UInt32(map.height), UInt32(map.count), UInt32(labelBytes),
      UInt32(keyBytes.count),
    ] {
      append(field, bytes: 4, to: &bytes)
    }
    bytes += keyBytes
    for label in map.labels { append(UInt32(label), bytes: labelBytes, to: &bytes) }
    return bytes
  }

  /// The map stored in `bytes`, which must have been filed under `key`.
  /// - Throws: `CodecError` naming the first thing wrong (not gzip, truncated, a CRC mismatch,
  ///   another format version or key, sizes that disagree, labels outside `0..<count` or missing).
  public static func decode(
    _ bytes: [UInt8], key: String, maxPixels: Int = ReadLimits.defaultMaxPixels
  ) throws(CodecError) -> SegmentMap {
    guard Compression(signatureOf: bytes) == .gzip else { throw CodecError("not a gzip stream") }
    var limits = ReadLimits()
    limits.maxLineLength = Int.max  // labels are binary: newline bytes mean nothing here
    let payload: [UInt8]
    do {
      payload = try FileBytes.gunzip(bytes, path: "segment map", limits: limits)
    } catch {
      throw CodecError("corrupt compressed data")
    }
    return try decode(payload: payload, key: key, maxPixels: maxPixels)
  }

  /// Decodes an uncompressed payload.
  static func decode(payload: [UInt8], key: String, maxPixels: Int) throws(CodecError) -> SegmentMap
  {
    let keyBytes = Array(key.utf8)
    guard payload.count >= 32, Array(payload[0..<8]) == magic else {
      throw CodecError("not a Glimpse segment map")
    }
    let field = { (index: Int) -> Int in read(payload, at: 8 + 4 * index, bytes: 4) }
    guard UInt32(field(0)) == version else {
      throw CodecError("segment map format \(field(0)), expected \(version)")
    }
    let width = field(1)
    let height = field(2)
    let count = field(3)
    let labelBytes = field(4)
    let keyLength = field(5)
    guard width >= 1, height >= 1, width <= maxPixels, height <= maxPixels,
      width * height <= maxPixels
    else {
      throw CodecError("size \(width)×\(height) out of range")
    }
    let pixels = width * height
    guard count >= 1, count <= pixels, labelBytes == bytesPerLabel(count: count) else {
      throw CodecError("\(count) segments with \(labelBytes)-byte labels for \(pixels) pixels")
    }
    let labelsStart = 32 + keyLength
    guard keyLength == keyBytes.count, payload.count == labelsStart + pixels * labelBytes else {
      throw CodecError("length \(payload.count) does not match its header")
    }
    guard Array(payload[32..<labelsStart]) == keyBytes else {
      throw CodecError("filed under another key")
    }
    var labels = [Int32](repeating: 0, count: pixels)
    var present = [Bool](repeating: false, count: count)
    for index in 0..<pixels {
      let label = read(payload, at: labelsStart + index * labelBytes, bytes: labelBytes)
      guard label < count else {
        throw CodecError("label \(label) at pixel \(index), only \(count) segments")
      }
      labels[index] = Int32(label)
      present[label] = true
    }
    guard let missing = present.firstIndex(of: false) else {
      return SegmentMap(width: width, height: height, denseLabels: labels)
    }
    throw CodecError("segment \(missing) of \(count) has no pixel")
  }

  /// The narrowest little-endian width that holds labels `0..<count`.
  static func bytesPerLabel(count: Int) -> Int {
    count <= 1 << 8 ? 1 : count <= 1 << 16 ? 2 : 4
  }

  private static func append(_ value: UInt32, bytes: Int, to output: inout [UInt8]) {
    for shift in 0..<bytes {
      output.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(shift))))
    }
  }

  private static func read(_ bytes: [UInt8], at offset: Int, bytes width: Int) -> Int {
    var value = 0
    for shift in 0..<width { value |= Int(bytes[offset + shift]) << (8 * shift) }
    return value
  }
}

import GlimpseCore

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A trained model as named arrays plus a JSON header: what a model file holds.
///
/// File format, version 1 (all integers little-endian):
///
/// | bytes | content |
/// |---|---|
/// | 8 | magic `GLIMPSE` followed by a NUL byte |
/// | 4 | format version (UInt32) |
/// | 4 | header length H (UInt32) |
/// | H | UTF-8 JSON header: `kind`, `classNames`, `featureCount`, `imageShape`, `hyperparameters`, `scalars`, and `arrays`, a list of `{name, type, count}` with type `f64`, `i64`, `q8` or `f32` |
/// | … | the arrays in header order: 8 bytes per element for `f64` (IEEE 754 doubles) and `i64`, 4 for `f32` (IEEE 754 singles), 1 byte per element for `q8` (value = byte / 255) |
/// | 4 | CRC-32 (zlib's) of every byte before it |
///
/// Version 2 adds `q8`: a double array whose every value is an 8-bit pixel scaled to [0, 1]
/// (exactly `Double(k) / 255`, bit for bit) is stored one byte per value, so an SVM's support
/// vectors or a k-NN's training images of 224×224 pixels take an eighth of the space and the
/// model loads 8× faster; decoding gives the same doubles, so predictions are unchanged.
/// Version 3 adds `f32`: a double array whose every value is a Float32 (a CNN's weights, kept
/// in their working precision) is stored in 4 bytes per value, exactly. A file is written with
/// the lowest version that holds its arrays, so older readers still read what they can.
///
/// The header is readable with `head -c 2000 model.glimpse | strings`; the arrays keep full
/// precision. A file with another magic, a newer version, a short length or a wrong checksum is
/// refused with a `ModelError` that says which; so is one whose checksum is right but whose
/// fields disagree with each other or with the bytes present (the message names the field).
public struct ModelArchive: Sendable, Equatable {
  /// The format version written by this Glimpse.
  public static let formatVersion = 3
  static let magic: [UInt8] = Array("GLIMPSE".utf8) + [0]

  /// The model's kind (`Classifier.kind`).
  public var kind: String
  /// Class names in probability-column order.
  public var classNames: [String]
  /// Features per row.
  public var featureCount: Int
  /// The image shape of the training rows, when they were images.
  public var imageShape: ImageShape?
  /// Named scalars (intercepts, kernel parameters).
  public var scalars: [String: Double]
  /// Named arrays of doubles.
  public var doubles: [String: [Double]]
  /// Named arrays of integers.
  public var integers: [String: [Int]]
  /// The hyperparameters as JSON.
  public var hyperparametersJSON: [UInt8]

  /// An archive of a model with typed hyperparameters.
  public init<H: Encodable>(
    kind: String, classNames: [String], featureCount: Int, imageShape: ImageShape? = nil,
    hyperparameters: H, scalars: [String: Double] = [:], doubles: [String: [Double]] = [:],
    integers: [String: [Int]] = [:]
  ) {
    self.kind = kind
    self.classNames = classNames
    self.featureCount = featureCount
    self.imageShape = imageShape
    self.scalars = scalars
    self.doubles = doubles
    self.integers = integers
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Hyperparameters are plain Codable values; encoding them cannot fail.
    self.hyperparametersJSON = (try? Array(encoder.encode(hyperparameters))) ?? Array("{}".utf8)
  }

  /// The hyperparameters decoded as `type`.
  public func hyperparameters<H: Decodable>(as type: H.Type) throws(ModelError) -> H {
    do {
      return try JSONDecoder().decode(H.self, from: Data(hyperparametersJSON))
    } catch {
      throw .corruptModelFile("field 'hyperparameters' does not decode: \(Self.describe(error))")
    }
  }

  /// The named double array, which must have `count` elements when given.
  public func doubles(_ name: String, count: Int? = nil) throws(ModelError) -> [Double] {
    guard let array = doubles[name] else {
      throw .corruptModelFile(
        integers[name] == nil
          ? "array '\(name)' is missing" : "array '\(name)' holds integers, expected doubles")
    }
    if let count, array.count != count {
      throw .corruptModelFile("array '\(name)' has \(array.count) values, expected \(count)")
    }
    return array
  }

  /// The named integer array, which must have `count` elements when given.
  public func integers(_ name: String, count: Int? = nil) throws(ModelError) -> [Int] {
    guard let array = integers[name] else {
      throw .corruptModelFile(
        doubles[name] == nil
          ? "array '\(name)' is missing" : "array '\(name)' holds doubles, expected integers")
    }
    if let count, array.count != count {
      throw .corruptModelFile("array '\(name)' has \(array.count) values, expected \(count)")
    }
    return array
  }

  /// The named scalar.
  public func scalar(_ name: String) throws(ModelError) -> Double {
    guard let value = scalars[name] else { throw .corruptModelFile("scalar '\(name)' is missing") }
    return value
  }

  // MARK: - Bytes

  struct ArrayEntry: Codable {
    var name: String
    var type: String
    var count: Int
  }

  struct Header: Codable {
    var kind: String
    var classNames: [String]
    var featureCount: Int
    var imageShape: ImageShape?
    var scalars: [String: Double]
    var arrays: [ArrayEntry]
  }

  /// The archive as the bytes of a model file.
  public func encoded() -> [UInt8] {
    let entries =
      doubles.keys.sorted().map { name in
        let values = doubles[name]!
        let type = Self.isEightBit(values) ? "q8" : Self.isFloat32(values) ? "f32" : "f64"
        return ArrayEntry(name: name, type: type, count: values.count)
      }
      + integers.keys.sorted().map { ArrayEntry(name: $0, type: "i64", count: integers[$0]!.count) }
    let header = Header(
      kind: kind, classNames: classNames, featureCount: featureCount, imageShape: imageShape,
      scalars: scalars, arrays: entries)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var headerJSON = (try? Array(encoder.encode(header))) ?? []
    // Splice the hyperparameters in as a JSON object, so the header stays plain JSON.
    headerJSON.removeLast()  // "}"
    headerJSON += Array(",\"hyperparameters\":".utf8) + hyperparametersJSON + [UInt8(ascii: "}")]

    var bytes = Self.magic
    // Version 1 readers know no `q8`, version 2 readers no `f32`: a file needs the version of
    // the newest type it holds.
    let version =
      entries.contains { $0.type == "f32" } ? 3 : entries.contains { $0.type == "q8" } ? 2 : 1
    append(UInt32(version), to: &bytes)
    append(UInt32(headerJSON.count), to: &bytes)
    bytes += headerJSON
    bytes.reserveCapacity(
      bytes.count + entries.reduce(0) { $0 + Self.bytesPerValue($1.type) * $1.count } + 4)
    for entry in entries {
      switch entry.type {
      case "q8":
        bytes += doubles[entry.name]!.map { UInt8(($0 * 255).rounded()) }
      case "f32":
        for value in doubles[entry.name]! { append(Float(value).bitPattern, to: &bytes) }
      case "f64":
        for value in doubles[entry.name]! { append(value.bitPattern, to: &bytes) }
      default:
        for value in integers[entry.name]! { append(UInt64(bitPattern: Int64(value)), to: &bytes) }
      }
    }
    append(CRC32.checksum(bytes), to: &bytes)
    return bytes
  }

  /// The most features a model file may declare: far above any image Glimpse reads (a
  /// 4096×4096 RGB image has 2²⁵·⁶ values), and small enough that products with array
  /// lengths never come near `Int.max`.
  public static let maximumFeatureCount = 1 << 32
  /// The most classes a model file may declare.
  public static let maximumClassCount = 1 << 20

  /// Reads a model file's bytes.
  ///
  /// The checksum only proves the bytes were not damaged; every field is then checked against
  /// the others and against the bytes present, before anything is allocated from it: the array
  /// lengths against the payload, the image shape against the feature count, class names for
  /// duplicates. Each model's `init(archive:)` checks its own arrays in the same way.
  /// - Throws: `ModelError.corruptModelFile` or `.unsupportedVersion`.
  public init(decoding bytes: [UInt8]) throws(ModelError) {
    guard bytes.count >= 20, Array(bytes.prefix(8)) == Self.magic else {
      throw .corruptModelFile("it does not start with the GLIMPSE magic bytes")
    }
    let version = Int(Self.readUInt32(bytes, at: 8))
    guard version <= Self.formatVersion else {
      throw .unsupportedVersion(found: version, supported: Self.formatVersion)
    }
    guard version >= 1 else { throw .corruptModelFile("format version 0 does not exist") }
    let headerLength = Int(Self.readUInt32(bytes, at: 12))
    guard headerLength <= bytes.count - 20 else {
      throw .corruptModelFile("the file is cut short (header of \(headerLength) bytes)")
    }
    // The checksum first: a damaged file says so, rather than whatever its damage looks like.
    let stored = Self.readUInt32(bytes, at: bytes.count - 4)
    guard stored == CRC32.checksum(bytes[0..<(bytes.count - 4)]) else {
      // A file cut short also fails here; say which when the header tells the length.
      if let expected = Self.declaredLength(bytes, headerLength: headerLength),
        expected != bytes.count
      {
        throw .corruptModelFile(
          bytes.count < expected
            ? "the file is cut short (\(bytes.count) of \(expected) bytes)"
            : "\(bytes.count - expected) unexpected bytes after the data")
      }
      throw .corruptModelFile("the checksum does not match (the file is damaged)")
    }
    let headerBytes = Array(bytes[16..<(16 + headerLength)])
    struct HyperparameterHolder: Decodable {
      var hyperparameters: JSONValue
    }
    let header: Header
    let hyperparameters: JSONValue
    do {
      header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
      hyperparameters = try JSONDecoder().decode(HyperparameterHolder.self, from: Data(headerBytes))
        .hyperparameters
    } catch {
      throw .corruptModelFile("the header does not decode: \(Self.describe(error))")
    }
    let payload = try Self.checkArrays(header.arrays)
    // `payload` is at most `Int.max / 2` (checked), so the sum cannot overflow.
    let expectedLength = 16 + headerLength + payload + 4
    guard bytes.count == expectedLength else {
      throw .corruptModelFile(
        bytes.count < expectedLength
          ? "the file is cut short (\(bytes.count) of \(expectedLength) bytes)"
          : "\(bytes.count - expectedLength) unexpected bytes after the data")
    }
    try Self.checkFields(header)
    var offset = 16 + headerLength
    var doubles: [String: [Double]] = [:]
    var integers: [String: [Int]] = [:]
    bytes.withUnsafeBytes { raw in
      for entry in header.arrays {
        // The lengths were checked against the bytes present above.
        let start = offset
        offset += Self.bytesPerValue(entry.type) * entry.count
        switch entry.type {
        case "q8":
          doubles[entry.name] = (0..<entry.count).map { Double(raw[start + $0]) / 255 }
        case "f32":
          doubles[entry.name] = (0..<entry.count).map {
            Double(
              Float(
                bitPattern: UInt32(
                  littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * $0, as: UInt32.self)))
            )
          }
        case "f64":
          doubles[entry.name] = (0..<entry.count).map {
            Double(
              bitPattern: UInt64(
                littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * $0, as: UInt64.self)))
          }
        default:
          integers[entry.name] = (0..<entry.count).map {
            Int(
              Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * $0, as: Int64.self))
            )
          }
        }
      }
    }
    kind = header.kind
    classNames = header.classNames
    featureCount = header.featureCount
    imageShape = header.imageShape
    scalars = header.scalars
    self.doubles = doubles
    self.integers = integers
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    hyperparametersJSON = (try? Array(encoder.encode(hyperparameters))) ?? Array("{}".utf8)
  }

  /// The file length the header announces, when its JSON reads (for the error message of a file
  /// cut short or with bytes appended, whose checksum fails too).
  private static func declaredLength(_ bytes: [UInt8], headerLength: Int) -> Int? {
    let headerBytes = Data(bytes[16..<(16 + headerLength)])
    guard let header = try? JSONDecoder().decode(Header.self, from: headerBytes),
      let payload = try? checkArrays(header.arrays)
    else { return nil }
    return 16 + headerLength + payload + 4
  }

  /// Checks the array list (names, types, lengths) and returns the payload size in bytes.
  private static func checkArrays(_ entries: [ArrayEntry]) throws(ModelError) -> Int {
    var names = Set<String>()
    var payload = 0
    for entry in entries {
      let name = quoted(entry.name)
      guard names.insert(entry.name).inserted else {
        throw .corruptModelFile("array \(name) is listed twice")
      }
      guard ["f64", "i64", "q8", "f32"].contains(entry.type) else {
        throw .corruptModelFile("array \(name) has unknown type \(quoted(entry.type))")
      }
      // At most Int.max / 16 bytes in all, so byte counts and offsets never overflow.
      guard entry.count >= 0, entry.count <= (Int.max / 16 - payload) / 8 else {
        throw .corruptModelFile("array \(name) has a length of \(entry.count) values")
      }
      payload += bytesPerValue(entry.type) * entry.count
    }
    return payload
  }

  /// Bytes per element of an array of `type` (checked to be `f64`, `i64`, `q8` or `f32`).
  static func bytesPerValue(_ type: String) -> Int {
    switch type {
    case "q8": 1
    case "f32": 4
    default: 8
    }
  }

  /// Whether every value is a Float32 exactly (bit for bit through `Float`, so storing 4 bytes
  /// loses nothing). Short arrays stay `f64`.
  static func isFloat32(_ values: [Double]) -> Bool {
    guard values.count >= 16 else { return false }
    return values.allSatisfy { Double(Float($0)).bitPattern == $0.bitPattern }
  }

  /// Whether every value is an 8-bit pixel scaled to [0, 1], exactly as `Double(k) / 255`
  /// reproduces it (bit for bit, so storing the bytes loses nothing). Short arrays stay `f64`.
  static func isEightBit(_ values: [Double]) -> Bool {
    guard values.count >= 64 else { return false }
    for value in values {
      let k = (value * 255).rounded()
      // Compared as the decoder will compute it, so -0.0 (stored as 0, read as +0.0) stays f64.
      guard k >= 0, k <= 255, (Double(UInt8(k)) / 255).bitPattern == value.bitPattern else {
        return false
      }
    }
    return true
  }

  /// Checks the header's fields against each other: feature count, image shape, class names.
  private static func checkFields(_ header: Header) throws(ModelError) {
    guard (1...maximumFeatureCount).contains(header.featureCount) else {
      throw .corruptModelFile(
        "field 'featureCount' is \(header.featureCount), expected 1...\(maximumFeatureCount)")
    }
    if let shape = header.imageShape {
      // Images have 1 to 4 channels (grey, grey + alpha, RGB, RGBA); resizing and figures rely on it.
      guard shape.height >= 1, shape.width >= 1, (1...4).contains(shape.channels) else {
        throw .corruptModelFile(
          "field 'imageShape' is \(shape.height)×\(shape.width)×\(shape.channels), expected positive sizes and 1 to 4 channels"
        )
      }
      let (area, overflowA) = shape.height.multipliedReportingOverflow(by: shape.width)
      let (values, overflowB) = area.multipliedReportingOverflow(by: shape.channels)
      guard !overflowA, !overflowB, values == header.featureCount else {
        throw .corruptModelFile(
          "field 'imageShape' (\(shape.height)×\(shape.width)×\(shape.channels)) does not hold the \(header.featureCount) features"
        )
      }
    }
    guard header.classNames.count <= maximumClassCount else {
      throw .corruptModelFile(
        "field 'classNames' lists \(header.classNames.count) classes, more than \(maximumClassCount)"
      )
    }
    var seen = Set<String>()
    for name in header.classNames where !seen.insert(name).inserted {
      throw .corruptModelFile("field 'classNames' lists the class \(quoted(name)) twice")
    }
  }

  /// `text` in single quotes for an error message (`GlimpseCore.quoted`).
  static func quoted(_ text: String, limit: Int = 60) -> String {
    GlimpseCore.quoted(text, limit: limit, delimiter: "'")
  }

  /// A decoding error as a short phrase (`describeDecodingError`).
  static func describe(_ error: any Error) -> String { describeDecodingError(error) }

  private func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
  }

  private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
  }
}

/// Any JSON value, to carry hyperparameters through without knowing their type.
enum JSONValue: Codable, Equatable, Sendable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .string(let value): try container.encode(value)
    case .array(let value): try container.encode(value)
    case .object(let value): try container.encode(value)
    }
  }
}

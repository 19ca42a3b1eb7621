import GlimpseCore

/// The byte layout of the model-server protocol (docs/model-protocol.md): pure encoding,
/// decoding and checks, no I/O, so that every rule is unit-tested on bytes.
///
/// All integers are unsigned 32-bit little-endian; pixels and probabilities are IEEE float32
/// little-endian.
///
/// - hello (server → Glimpse, once, at start): `"GLMH"`, version, height, width, channels,
///   classes K, names byte count L, then L bytes of UTF-8: the K class names separated by `\n`.
/// - request (Glimpse → server): `"GLMQ"`, version, batch N, height, width, channels, dtype (1:
///   float32), then N·H·W·C float32 pixels in [0, 1], NHWC (each image's rows, each row's
///   pixels, each pixel's channels).
/// - answer (server → Glimpse): `"GLMR"`, status (0: ok), rows, classes, then rows·classes
///   float32 probabilities row-major; or status 1, the message's byte count M, 0, then M bytes
///   of UTF-8 (one line).
public enum ModelWire {
  /// The protocol version this Glimpse speaks.
  public static let version: UInt32 = 1
  /// The hello's magic.
  public static let helloMagic: [UInt8] = Array("GLMH".utf8)
  /// The request's magic.
  public static let requestMagic: [UInt8] = Array("GLMQ".utf8)
  /// The answer's magic.
  public static let answerMagic: [UInt8] = Array("GLMR".utf8)
  /// The dtype code of float32 pixels.
  public static let float32: UInt32 = 1
  /// Bytes of the hello's fixed part.
  public static let helloHeaderSize = 28
  /// Bytes of a request's header.
  public static let requestHeaderSize = 28
  /// Bytes of an answer's header.
  public static let answerHeaderSize = 16
  /// The largest class count accepted (a garbage header must not make Glimpse wait for
  /// gigabytes).
  public static let maxClasses = 100_000
  /// The largest class-names block accepted.
  public static let maxNamesBytes = 16 << 20
  /// The largest error message accepted.
  public static let maxMessageBytes = 64 << 10
  /// Largest height or width.
  public static let maxSide = 1 << 15
  /// How far a row's sum may be from 1.
  public static let sumTolerance = 1e-3

  /// What the server says about its model at start.
  public struct Hello: Sendable, Equatable {
    /// The images the model takes.
    public var shape: ImageShape
    /// Class names in the order of the answer's columns.
    public var classNames: [String]

    /// A hello.
    public init(shape: ImageShape, classNames: [String]) {
      self.shape = shape
      self.classNames = classNames
    }
  }

  /// A server's answer to one request.
  public enum Answer: Sendable, Equatable {
    /// `rows × classes` probabilities.
    case probabilities(Matrix)
    /// The server's one-line error.
    case failure(String)
  }

  /// A protocol violation, said in one line.
  public struct Violation: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in one line.
    public var description: String
    /// A violation saying `description`.
    public init(_ description: String) { self.description = description }
  }

  // MARK: hello

  /// The hello's bytes (servers written in Swift, tests).
  public static func encodeHello(_ hello: Hello) -> [UInt8] {
    let names = Array(hello.classNames.joined(separator: "\n").utf8)
    var bytes = helloMagic
    for value in [
      version, UInt32(hello.shape.height), UInt32(hello.shape.width), UInt32(hello.shape.channels),
      UInt32(hello.classNames.count), UInt32(names.count),
    ] {
      append(value, to: &bytes)
    }
    return bytes + names
  }

  /// Reads the hello's fixed part: the byte count of the names that follow.
  public static func helloNamesByteCount(_ header: [UInt8]) throws(Violation) -> Int {
    guard header.count >= helloHeaderSize else { throw Violation("hello cut short") }
    guard Array(header.prefix(4)) == helloMagic else {
      throw Violation(
        "the model command did not start with the protocol's hello (\"GLMH\"), it wrote \(shown(header.prefix(16)))"
      )
    }
    let v = u32(header, 4)
    guard v == version else {
      throw Violation(
        "the model command speaks protocol version \(v), this Glimpse speaks \(version)")
    }
    let length = Int(u32(header, 24))
    guard length <= maxNamesBytes else {
      throw Violation("hello announces \(length) bytes of class names (at most \(maxNamesBytes))")
    }
    return length
  }

  /// The hello from its fixed part and the names bytes.
  public static func decodeHello(_ header: [UInt8], names: [UInt8]) throws(Violation) -> Hello {
    _ = try helloNamesByteCount(header)
    let height = Int(u32(header, 8))
    let width = Int(u32(header, 12))
    let channels = Int(u32(header, 16))
    let classes = Int(u32(header, 20))
    guard (1...maxSide).contains(height), (1...maxSide).contains(width) else {
      throw Violation("hello gives an image size of \(height)×\(width) (1 … \(maxSide) each)")
    }
    guard channels == 1 || channels == 3 else {
      throw Violation("hello gives \(channels) channels (1 or 3)")
    }
    guard (2...maxClasses).contains(classes) else {
      throw Violation("hello gives \(classes) classes (2 … \(maxClasses))")
    }
    var classNames: [String]
    if names.isEmpty {
      classNames = (0..<classes).map { String($0) }
    } else {
      guard let text = String(validating: names, as: UTF8.self) else {
        throw Violation("hello's class names are not UTF-8")
      }
      classNames = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      guard classNames.count == classes else {
        throw Violation("hello gives \(classes) classes but \(classNames.count) names")
      }
      if let empty = classNames.firstIndex(of: "") {
        throw Violation("hello's class name \(empty + 1) is empty")
      }
      guard Set(classNames).count == classes else { throw Violation("hello's class names repeat") }
    }
    return Hello(
      shape: ImageShape(height: height, width: width, channels: channels), classNames: classNames)
  }

  // MARK: request

  /// A request for `rows` (each `shape.valueCount` values in [0, 1], H×W×C) as float32.
  public static func encodeRequest(_ features: Matrix, shape: ImageShape) -> [UInt8] {
    precondition(features.columns == shape.valueCount, "rows must have the image's value count")
    var bytes = requestMagic
    bytes.reserveCapacity(requestHeaderSize + features.storage.count * 4)
    for value in [
      version, UInt32(features.rows), UInt32(shape.height), UInt32(shape.width),
      UInt32(shape.channels), float32,
    ] {
      append(value, to: &bytes)
    }
    for value in features.storage { append(Float(value).bitPattern, to: &bytes) }
    return bytes
  }

  // MARK: answer

  /// The byte count of the answer's body after its header, checked against what was asked.
  public static func answerBodyByteCount(_ header: [UInt8], rows: Int, classes: Int)
    throws(Violation) -> Int
  {
    guard header.count >= answerHeaderSize else { throw Violation("answer header cut short") }
    guard Array(header.prefix(4)) == answerMagic else {
      throw Violation("answer does not start with \"GLMR\": \(shown(header.prefix(16)))")
    }
    let status = u32(header, 4)
    let first = Int(u32(header, 8))
    let second = Int(u32(header, 12))
    switch status {
    case 0:
      guard first == rows, second == classes else {
        throw Violation(
          "answer has shape \(first)×\(second), expected \(rows)×\(classes) (rows × classes)")
      }
      return rows * classes * 4
    case 1:
      guard first <= maxMessageBytes else {
        throw Violation("error message of \(first) bytes (at most \(maxMessageBytes))")
      }
      return first
    default:
      throw Violation("answer status \(status) (0: ok, 1: error)")
    }
  }

  /// The answer from its header and body, probabilities checked: finite, in [0, 1] (to the
  /// tolerance), rows summing to 1 within `sumTolerance`; each row is then divided by its sum.
  public static func decodeAnswer(_ header: [UInt8], body: [UInt8], rows: Int, classes: Int)
    throws(Violation) -> Answer
  {
    let count = try answerBodyByteCount(header, rows: rows, classes: classes)
    guard body.count == count else { throw Violation("answer body cut short") }
    if u32(header, 4) == 1 {
      let text = String(decoding: body, as: UTF8.self)
      let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
      return .failure(line.isEmpty ? "(no message)" : line)
    }
    var values = [Double](repeating: 0, count: rows * classes)
    for index in values.indices {
      values[index] = Double(Float(bitPattern: u32(body, index * 4)))
    }
    for row in 0..<rows {
      let slice = values[(row * classes)..<((row + 1) * classes)]
      if let bad = slice.firstIndex(where: { !$0.isFinite }) {
        throw Violation(
          "row \(row + 1) of the answer has a non-finite value (\(values[bad]) for class \(bad - row * classes + 1))"
        )
      }
      if let bad = slice.firstIndex(where: { $0 < -sumTolerance || $0 > 1 + sumTolerance }) {
        throw Violation(
          "row \(row + 1) of the answer has \(values[bad]) for class \(bad - row * classes + 1): probabilities are in [0, 1] (the protocol takes probabilities, not logits: apply softmax)"
        )
      }
      let sum = slice.reduce(0, +)
      guard abs(sum - 1) <= sumTolerance else {
        throw Violation(
          "row \(row + 1) of the answer sums to \(sum), not 1 (within \(sumTolerance)): the protocol takes probabilities, not logits (apply softmax)"
        )
      }
      for index in slice.indices { values[index] = max(0, values[index]) / sum }
    }
    return .probabilities(Matrix(rows: rows, columns: classes, storage: values))
  }

  /// The answer's bytes (servers written in Swift, tests).
  public static func encodeAnswer(_ answer: Answer) -> [UInt8] {
    var bytes = answerMagic
    switch answer {
    case .probabilities(let p):
      for value in [0, UInt32(p.rows), UInt32(p.columns)] { append(value, to: &bytes) }
      for value in p.storage { append(Float(value).bitPattern, to: &bytes) }
    case .failure(let message):
      let text = Array(message.utf8)
      for value in [1, UInt32(text.count), 0] { append(value, to: &bytes) }
      bytes += text
    }
    return bytes
  }

  // MARK: bytes

  static func append(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes.append(UInt8(truncatingIfNeeded: value))
    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    bytes.append(UInt8(truncatingIfNeeded: value >> 16))
    bytes.append(UInt8(truncatingIfNeeded: value >> 24))
  }

  static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
      | UInt32(bytes[offset + 3]) << 24
  }

  /// Bytes for a message: as text when printable ASCII, else in hex.
  static func shown(_ bytes: ArraySlice<UInt8>) -> String {
    if bytes.allSatisfy({ (0x20...0x7e).contains($0) }) {
      return "\"\(String(decoding: bytes, as: UTF8.self))\""
    }
    return bytes.map {
      String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16)
    }
    .joined(separator: " ")
  }
}

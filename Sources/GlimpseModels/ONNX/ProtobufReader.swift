// Implementation notes
// 1. The protocol buffers wire format, as specified at
//    https://protobuf.dev/programming-guides/encoding/: a message is a sequence of (tag, value)
//    records; the tag is a varint `field << 3 | wireType`; wire types 0 (varint), 1 (fixed64,
//    little-endian), 2 (length-delimited: a varint length, then that many bytes), 5 (fixed32);
//    3 and 4 (groups) are deprecated and never used by ONNX, so they are refused.
// 2. Every read is bounds-checked against the end of the enclosing message and throws
//    `ONNXError.malformed` with the absolute byte offset; nothing traps on hostile bytes.
// 3. Allocations are bounded by the input: a repeated field's capacity is reserved from the
//    bytes it spans (a packed run of n bytes holds at most n varints or n/4 floats), never from
//    a count the file claims.
// 4. Negative int32/int64 values are 10-byte varints (sign-extended two's complement, no
//    zigzag: ONNX uses no sint types); a varint's 10th byte may only carry the 64th bit.
// 5. Repeated scalars are accepted packed (one length-delimited record) and unpacked (one
//    record per value), in any mix, as the specification requires of parsers.

/// A protocol-buffers wire type.
enum WireType: Int, Sendable {
  case varint = 0
  case fixed64 = 1
  case lengthDelimited = 2
  case startGroup = 3
  case endGroup = 4
  case fixed32 = 5
}

/// Reads protocol-buffers records from a byte range of a shared buffer.
///
/// Sub-messages are read by readers over sub-ranges of the same array (no copies), so offsets in
/// errors are always offsets into the whole file.
struct ProtobufReader {
  /// The whole file.
  let bytes: [UInt8]
  /// The next byte to read.
  private(set) var position: Int
  /// One past the last byte of this message.
  let end: Int

  /// A reader over all of `bytes`.
  init(_ bytes: [UInt8]) {
    self.bytes = bytes
    self.position = 0
    self.end = bytes.count
  }

  /// A reader over `range` of `bytes` (a range checked by the caller to lie within them).
  init(_ bytes: [UInt8], range: Range<Int>) {
    self.bytes = bytes
    self.position = range.lowerBound
    self.end = range.upperBound
  }

  /// Whether every byte of the message has been read.
  var isAtEnd: Bool { position >= end }

  /// A `malformed` error at `offset`.
  func error(_ reason: String, at offset: Int? = nil) -> ONNXError {
    .malformed(offset: offset ?? position, reason: reason)
  }

  /// Reads a varint of at most 10 bytes.
  mutating func readVarint() throws(ONNXError) -> UInt64 {
    let start = position
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard position < end else { throw error("a varint is cut short", at: start) }
      let byte = bytes[position]
      position += 1
      if shift == 63 {
        // The 10th byte holds bit 63 only; anything more overflows 64 bits.
        guard byte <= 1 else { throw error("a varint overflows 64 bits", at: start) }
        return result | UInt64(byte) << 63
      }
      result |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return result }
      shift += 7
    }
  }

  /// Reads a record's tag: its field number (≥ 1) and wire type.
  mutating func readTag() throws(ONNXError) -> (field: Int, wireType: WireType) {
    let start = position
    let tag = try readVarint()
    guard tag >> 3 >= 1, tag >> 3 <= UInt64(Int32.max) else {
      throw error("field number \(tag >> 3) is out of range", at: start)
    }
    guard let wireType = WireType(rawValue: Int(tag & 7)) else {
      throw error("unknown wire type \(tag & 7)", at: start)
    }
    return (Int(tag >> 3), wireType)
  }

  /// Reads 4 little-endian bytes.
  mutating func readFixed32() throws(ONNXError) -> UInt32 {
    guard end - position >= 4 else { throw error("a fixed32 value is cut short") }
    var value: UInt32 = 0
    for k in 0..<4 { value |= UInt32(bytes[position + k]) << (8 * k) }
    position += 4
    return value
  }

  /// Reads 8 little-endian bytes.
  mutating func readFixed64() throws(ONNXError) -> UInt64 {
    guard end - position >= 8 else { throw error("a fixed64 value is cut short") }
    var value: UInt64 = 0
    for k in 0..<8 { value |= UInt64(bytes[position + k]) << (8 * k) }
    position += 8
    return value
  }

  /// Reads a length prefix and returns the range of the bytes it announces, skipping them.
  mutating func readLengthDelimited() throws(ONNXError) -> Range<Int> {
    let start = position
    let length = try readVarint()
    guard length <= UInt64(end - position) else {
      throw error(
        "a length of \(length) bytes runs past the end of its message (\(end - position) left)",
        at: start)
    }
    let range = position..<(position + Int(length))
    position = range.upperBound
    return range
  }

  /// A reader over a length-delimited field's bytes.
  mutating func readMessage() throws(ONNXError) -> ProtobufReader {
    ProtobufReader(bytes, range: try readLengthDelimited())
  }

  /// A length-delimited field's bytes, copied.
  mutating func readBytes() throws(ONNXError) -> [UInt8] {
    Array(bytes[try readLengthDelimited()])
  }

  /// A length-delimited field as UTF-8 text (invalid sequences become U+FFFD: names are only
  /// compared and shown).
  mutating func readString() throws(ONNXError) -> String {
    String(decoding: bytes[try readLengthDelimited()], as: UTF8.self)
  }

  /// Skips the value of a record of `wireType` (an unknown field).
  mutating func skip(_ wireType: WireType) throws(ONNXError) {
    switch wireType {
    case .varint: _ = try readVarint()
    case .fixed64: _ = try readFixed64()
    case .fixed32: _ = try readFixed32()
    case .lengthDelimited: _ = try readLengthDelimited()
    case .startGroup, .endGroup:
      throw error("groups (wire types 3 and 4) are not used by ONNX")
    }
  }

  /// Checks that a known field came with the wire type its declaration implies.
  func expect(_ wireType: WireType, _ expected: WireType, field: String) throws(ONNXError) {
    guard wireType == expected else {
      throw error(
        "field '\(field)' has wire type \(wireType.rawValue), expected \(expected.rawValue)")
    }
  }

  // MARK: Scalars

  /// A varint field as int64 (negative values are 10-byte sign-extended varints).
  mutating func readInt64(_ wireType: WireType, field: String) throws(ONNXError) -> Int64 {
    try expect(wireType, .varint, field: field)
    return Int64(bitPattern: try readVarint())
  }

  /// A varint field as int32 (protobuf truncates to the low 32 bits).
  mutating func readInt32(_ wireType: WireType, field: String) throws(ONNXError) -> Int32 {
    try expect(wireType, .varint, field: field)
    return Int32(truncatingIfNeeded: try readVarint())
  }

  /// A fixed32 field as a float.
  mutating func readFloat(_ wireType: WireType, field: String) throws(ONNXError) -> Float {
    try expect(wireType, .fixed32, field: field)
    return Float(bitPattern: try readFixed32())
  }

  // MARK: Repeated scalars, packed or not

  /// Appends a repeated varint field's values: a packed run or one value.
  mutating func appendVarints(
    _ wireType: WireType, field: String, to values: inout [UInt64]
  ) throws(ONNXError) {
    switch wireType {
    case .varint:
      values.append(try readVarint())
    case .lengthDelimited:
      let range = try readLengthDelimited()
      var run = ProtobufReader(bytes, range: range)
      // At most one value per byte.
      values.reserveCapacity(values.count + range.count)
      while !run.isAtEnd { values.append(try run.readVarint()) }
    default:
      throw error("field '\(field)' has wire type \(wireType.rawValue), expected 0 or 2")
    }
  }

  /// Appends a repeated int64 field's values.
  mutating func appendInt64s(
    _ wireType: WireType, field: String, to values: inout [Int64]
  ) throws(ONNXError) {
    var raw: [UInt64] = []
    try appendVarints(wireType, field: field, to: &raw)
    values.append(contentsOf: raw.lazy.map { Int64(bitPattern: $0) })
  }

  /// Appends a repeated int32 field's values.
  mutating func appendInt32s(
    _ wireType: WireType, field: String, to values: inout [Int32]
  ) throws(ONNXError) {
    var raw: [UInt64] = []
    try appendVarints(wireType, field: field, to: &raw)
    values.append(contentsOf: raw.lazy.map { Int32(truncatingIfNeeded: $0) })
  }

  /// Appends a repeated float field's values: a packed run of 4-byte values or one value.
  mutating func appendFloats(
    _ wireType: WireType, field: String, to values: inout [Float]
  ) throws(ONNXError) {
    switch wireType {
    case .fixed32:
      values.append(Float(bitPattern: try readFixed32()))
    case .lengthDelimited:
      let start = position
      let range = try readLengthDelimited()
      guard range.count % 4 == 0 else {
        throw error(
          "packed field '\(field)' has \(range.count) bytes, not a multiple of 4", at: start)
      }
      var run = ProtobufReader(bytes, range: range)
      values.reserveCapacity(values.count + range.count / 4)
      while !run.isAtEnd { values.append(Float(bitPattern: try run.readFixed32())) }
    default:
      throw error("field '\(field)' has wire type \(wireType.rawValue), expected 5 or 2")
    }
  }

  /// Appends a repeated double field's values: a packed run of 8-byte values or one value.
  mutating func appendDoubles(
    _ wireType: WireType, field: String, to values: inout [Double]
  ) throws(ONNXError) {
    switch wireType {
    case .fixed64:
      values.append(Double(bitPattern: try readFixed64()))
    case .lengthDelimited:
      let start = position
      let range = try readLengthDelimited()
      guard range.count % 8 == 0 else {
        throw error(
          "packed field '\(field)' has \(range.count) bytes, not a multiple of 8", at: start)
      }
      var run = ProtobufReader(bytes, range: range)
      values.reserveCapacity(values.count + range.count / 8)
      while !run.isAtEnd { values.append(Double(bitPattern: try run.readFixed64())) }
    default:
      throw error("field '\(field)' has wire type \(wireType.rawValue), expected 1 or 2")
    }
  }
}

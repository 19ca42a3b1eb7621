import GlimpseCore

/// Mutates valid inputs into the damaged, truncated and lying files a reader must survive.
///
/// The mutations are those of the mutation fuzzers that find reader bugs (AFL's havoc stage,
/// libFuzzer's mutators): bit flips, bytes and 2/4/8-byte fields set to boundary values in both
/// byte orders, truncation, inserted, duplicated and deleted runs, splices of another seed, and,
/// for text, numbers replaced by huge, negative, non-finite or malformed ones and stray
/// separators. A run applies 1 to 6 of them, as AFL stacks its havoc operations.
struct Mutator {
  /// Inputs are never grown past this (the seeds are small; bombs come from header fields).
  var maxLength = 1 << 22

  /// Boundary values for integer fields: sizes, counts and offsets that lie.
  static let interesting: [UInt64] = [
    0, 1, 2, 3, 7, 8, 16, 28, 255, 256, 65535, 65536, 100_000, 1 << 24, 0x7fff_ffff,
    0x8000_0000, 0xffff_ffff, 1 << 32, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000,
    0xffff_ffff_ffff_ffff,
  ]

  /// Replacement tokens for numbers and cells in text formats.
  static let tokens: [String] = [
    "0", "00", "-1", "3.0", "1e308", "-1e308", "1e309", "nan", "NaN", "inf", "-inf", "",
    "99999999999999999999999", "2147483648", "9223372036854775808", "-9223372036854775809",
    "0x10", "1,2", "\"", "\"\"", "\n", "\r\n", ",", ",,,", "label", "source", "\u{0}", "é",
    "1e-320", "255", "256", "-5", "300", "16", "[", "]", "{", "}", "null", "true", "[]", "{}",
    "\"a\":", "1000000000", "-0", "0.5",
  ]

  /// Returns a mutated copy of `input`; `other` is a second seed to splice from.
  func mutate(_ input: [UInt8], other: [UInt8], text: Bool, using rng: inout SeededGenerator)
    -> [UInt8]
  {
    var bytes = input
    let count = 1 + Int(rng.next() % 6)
    for _ in 0..<count {
      let choice = Int(rng.next() % (text ? 14 : 11))
      apply(choice, to: &bytes, other: other, using: &rng)
      if bytes.count > maxLength { bytes.removeLast(bytes.count - maxLength) }
    }
    return bytes
  }

  private func apply(
    _ choice: Int, to bytes: inout [UInt8], other: [UInt8], using rng: inout SeededGenerator
  ) {
    func position(_ width: Int = 1) -> Int? {
      guard bytes.count >= width else { return nil }
      return Int(rng.next() % UInt64(bytes.count - width + 1))
    }
    switch choice {
    case 0:  // flip one bit
      if let at = position() { bytes[at] ^= UInt8(1) << (rng.next() % 8) }
    case 1:  // a random byte
      if let at = position() { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
    case 2, 3:  // a 1/2/4/8-byte field set to a boundary value, either byte order
      let width = [1, 2, 4, 8][Int(rng.next() % 4)]
      guard let at = position(width) else { return }
      var value = Self.interesting[Int(rng.next() % UInt64(Self.interesting.count))]
      if rng.next() % 4 == 0 { value = value &+ (rng.next() % 3) &- 1 }
      let bigEndian = rng.next() % 2 == 0
      for k in 0..<width {
        let shift = UInt64(bigEndian ? (width - 1 - k) * 8 : k * 8)
        bytes[at + k] = UInt8(truncatingIfNeeded: value >> shift)
      }
    case 4:  // truncate
      if !bytes.isEmpty { bytes.removeLast(Int(rng.next() % UInt64(bytes.count)) + 1) }
    case 5:  // delete a run
      guard let at = position() else { return }
      let length = min(bytes.count - at, 1 + Int(rng.next() % 64))
      bytes.removeSubrange(at..<(at + length))
    case 6:  // insert random bytes
      let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count + 1))
      let run = (0..<(1 + Int(rng.next() % 16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      bytes.insert(contentsOf: run, at: at)
    case 7:  // duplicate a run (repeated rows, chunks, markers)
      guard let at = position() else { return }
      let length = min(bytes.count - at, 1 + Int(rng.next() % 256))
      let run = Array(bytes[at..<(at + length)])
      let copies = rng.next() % 8 == 0 ? 1 + Int(rng.next() % 64) : 1
      let destination = Int(rng.next() % UInt64(bytes.count + 1))
      for _ in 0..<copies { bytes.insert(contentsOf: run, at: destination) }
    case 8:  // splice: this seed's head, the other seed's tail
      guard !other.isEmpty, let at = position() else { return }
      let from = Int(rng.next() % UInt64(other.count))
      bytes = Array(bytes[..<at]) + Array(other[from...])
    case 9:  // overwrite a run with the other seed's bytes
      guard !other.isEmpty, let at = position() else { return }
      let from = Int(rng.next() % UInt64(other.count))
      let length = min(bytes.count - at, other.count - from, 1 + Int(rng.next() % 32))
      bytes.replaceSubrange(at..<(at + length), with: other[from..<(from + length)])
    case 10:  // a byte set to 0x00 or 0xff, or incremented
      if let at = position() {
        bytes[at] = [0, 0xff, bytes[at] &+ 1, bytes[at] &- 1][Int(rng.next() % 4)]
      }
    case 11, 12:  // text: a number or cell replaced by a token
      replaceToken(in: &bytes, using: &rng)
    default:  // text: a token inserted anywhere
      let token = Array(Self.tokens[Int(rng.next() % UInt64(Self.tokens.count))].utf8)
      let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count + 1))
      bytes.insert(contentsOf: token, at: at)
    }
  }

  /// Replaces the run of number characters around a random position by a token.
  private func replaceToken(in bytes: inout [UInt8], using rng: inout SeededGenerator) {
    guard !bytes.isEmpty else { return }
    func isNumberByte(_ byte: UInt8) -> Bool {
      (byte >= 0x30 && byte <= 0x39) || byte == 0x2e || byte == 0x2d || byte == 0x65
    }
    var start = Int(rng.next() % UInt64(bytes.count))
    var end = start
    while start > 0 && isNumberByte(bytes[start - 1]) { start -= 1 }
    while end < bytes.count && isNumberByte(bytes[end]) { end += 1 }
    let token = Array(Self.tokens[Int(rng.next() % UInt64(Self.tokens.count))].utf8)
    bytes.replaceSubrange(start..<end, with: token)
  }
}

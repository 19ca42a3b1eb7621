import GlimpseCore
import Testing

@Suite("CRC32: zlib's CRC-32, eight bytes at a time")
struct CRC32Tests {
  /// The textbook bitwise definition (reflected 0xEDB88320), the reference for the fast path.
  static func bitwise(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
  }

  @Test("the check value: CRC-32 of \"123456789\" is 0xCBF43926, and of nothing is 0")
  func checkValue() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    #expect(CRC32.checksum([UInt8]()) == 0)
  }

  @Test("equals the bitwise definition at every length 0...40 and every alignment of a slice")
  func matchesBitwiseDefinition() {
    var rng = SeededGenerator(seed: 5)
    let bytes = (0..<80).map { _ in UInt8.random(in: 0...255, using: &rng) }
    for start in 0..<8 {
      for length in 0...40 {
        let slice = bytes[start..<(start + length)]
        #expect(CRC32.checksum(slice) == Self.bitwise(Array(slice)))
      }
    }
    // A sequence without contiguous storage takes the copying path.
    #expect(CRC32.checksum(bytes.lazy.map { $0 }) == Self.bitwise(bytes))
  }
}

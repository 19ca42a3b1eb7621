import GlimpseCore
import Testing

@Suite("SHA256: FIPS 180-4 digests at every padding boundary")
struct SHA256Tests {
  /// Digests of bytes `(7i + 3) mod 256`, from Python's hashlib (`hashlib.sha256(...).hexdigest()`).
  static let reference: [(Int, String)] = [
    (55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"),
    (56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"),
    (63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"),
    (64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"),
    (65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"),
    (119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"),
    (128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"),
    (1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"),
  ]

  @Test("equals hashlib's digest on both sides of the one- and two-block padding boundaries")
  func matchesHashlib() {
    for (count, expected) in Self.reference {
      let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
      #expect(SHA256.hexDigest(bytes) == expected, "\(count) bytes")
    }
  }
}

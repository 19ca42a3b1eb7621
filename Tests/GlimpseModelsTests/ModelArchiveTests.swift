import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("Model files")
struct ModelArchiveTests {
  struct Settings: Codable, Equatable {
    var c: Double
    var name: String
  }

  func archive() -> ModelArchive {
    ModelArchive(
      kind: "toy", classNames: ["a", "b"], featureCount: 3,
      imageShape: ImageShape(height: 1, width: 3), hyperparameters: Settings(c: 0.5, name: "x"),
      scalars: ["gamma": 0.125], doubles: ["w": [1.5, -2, .pi]], integers: ["n": [3, -1]])
  }

  @Test("CRC-32 of '123456789' is the standard check value 0xCBF43926")
  func crcCheckValue() {
    #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
  }

  @Test("an archive survives encoding and decoding bit for bit")
  func roundTrip() throws {
    let original = archive()
    let decoded = try ModelArchive(decoding: original.encoded())
    #expect(decoded == original)
    #expect(try decoded.hyperparameters(as: Settings.self) == Settings(c: 0.5, name: "x"))
    #expect(decoded.encoded() == original.encoded())
  }

  @Test("wrong magic, truncation, damage, a newer version and extra bytes are refused")
  func refusesBadFiles() {
    let bytes = archive().encoded()
    func reason(_ bytes: [UInt8]) -> String? {
      do {
        _ = try ModelArchive(decoding: bytes)
        return nil
      } catch {
        return error.description
      }
    }
    #expect(reason(Array("not a model at all, just text".utf8))?.contains("magic") == true)
    #expect(reason(Array(bytes.prefix(bytes.count - 9)))?.contains("cut short") == true)
    var damaged = bytes
    damaged[damaged.count - 10] ^= 0x40
    #expect(reason(damaged)?.contains("checksum") == true)
    var newer = bytes
    newer[8] = 99
    #expect(reason(newer)?.contains("newer") == true)
    #expect(reason(bytes + [0])?.contains("unexpected bytes") == true)
  }

  @Test("missing arrays and wrong sizes are reported by name")
  func missingArrays() {
    let decoded = archive()
    #expect(throws: ModelError.corruptModelFile("array 'v' is missing")) {
      try decoded.doubles("v")
    }
    #expect(throws: ModelError.corruptModelFile("array 'w' has 3 values, expected 4")) {
      try decoded.doubles("w", count: 4)
    }
  }
}

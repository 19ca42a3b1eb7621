import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

/// What Pillow reads from each fixture PNG (Fixtures/scripts/make_fixtures.py).
struct PNGExpectation: Decodable {
  var shape: [Int]
  var values: [Double]
}

@Suite("PNG and JPEG codecs")
struct CodecTests {
  let fixtures = TestPaths.fixtures("GlimpseDataTests")

  @Test("PNG round trips are exact for grey, grey+alpha, RGB and RGBA", arguments: [1, 2, 3, 4])
  func pngRoundTrip(channels: Int) throws {
    let image = byteImage(height: 13, width: 17, channels: channels, seed: UInt64(channels))
    let decoded = try PNGCodec.decode(PNGCodec.encode(image))
    #expect(decoded == image)
  }

  @Test(
    "PNG colour types and depths decode as Pillow reads them",
    arguments: ["gray16", "palette", "gray_alpha", "bilevel", "rgba"])
  func pngMatchesPillow(name: String) throws {
    let expectations = try loadJSON(
      [String: PNGExpectation].self, from: fixtures + "/png/values.json")
    let expected = try #require(expectations[name])
    let image = try PNGCodec.decode(FileBytes.readRaw(fixtures + "/png/\(name).png"))
    #expect([image.height, image.width, image.channels] == expected.shape)
    #expect(maxAbsoluteDifference(image.pixels, expected.values) < 1e-12)
  }

  @Test("JPEG round trips within a bounded error", arguments: [1, 3])
  func jpegRoundTrip(channels: Int) throws {
    // A smooth image: JPEG's error is small on gradients, large on noise.
    let shape = ImageShape(height: 32, width: 48, channels: channels)
    var pixels = [Double]()
    for y in 0..<32 {
      for x in 0..<48 {
        for c in 0..<channels {
          pixels.append((Double(x) / 47 * 0.7 + Double(y) / 31 * 0.2 + Double(c) * 0.05))
        }
      }
    }
    let image = Image(shape: shape, pixels: pixels.map { ($0 * 255).rounded() / 255 })
    let decoded = try JPEGCodec.decode(JPEGCodec.encode(image, quality: 95))
    #expect(decoded.shape == shape)
    let meanError =
      zip(decoded.pixels, image.pixels).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(pixels.count)
    #expect(meanError < 2.0 / 255)
    #expect(maxAbsoluteDifference(decoded.pixels, image.pixels) < 12.0 / 255)
  }

  @Test("truncated PNG and JPEG files are errors that say so")
  func truncated() throws {
    let image = byteImage(height: 40, width: 40, channels: 3, seed: 5)
    let png = try PNGCodec.encode(image)
    #expect {
      try PNGCodec.decode(Array(png.prefix(png.count / 2)))
    } throws: { error in
      (error as? CodecError)?.reason.contains("truncated") ?? false
    }
    let jpeg = try JPEGCodec.encode(image)
    #expect {
      try JPEGCodec.decode(Array(jpeg.prefix(jpeg.count / 2)))
    } throws: { error in
      (error as? CodecError)?.reason.contains("truncated") ?? false
    }
  }

  @Test("random bytes are not an image")
  func randomBytes() {
    var generator = SeededGenerator(seed: 9)
    let noise = (0..<500).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    #expect(throws: CodecError("not a PNG file (bad signature)")) { try PNGCodec.decode(noise) }
    #expect(throws: CodecError.self) { try JPEGCodec.decode(noise) }
    #expect(throws: CodecError.self) { try ImageFileFormat.decode(noise) }
    #expect(throws: CodecError.self) { try JPEGCodec.decode([0xFF, 0xD8] + noise) }
  }
}

import GlimpseCore
import GlimpseSegmentation
import Testing

@Suite("Default segmenters fit the image: the seed's six for digits, sized sets for larger images")
struct DefaultSegmentersTests {
  /// A smooth scene: a gradient background with a bright disc and a dark square.
  static func scene(side: Int, channels: Int) -> Image {
    var samples = [UInt8]()
    samples.reserveCapacity(side * side * channels)
    for y in 0..<side {
      for x in 0..<side {
        let disc =
          (x - side / 3) * (x - side / 3) + (y - side / 3) * (y - side / 3) < side * side / 36
        let square = abs(x - 2 * side / 3) < side / 8 && abs(y - 2 * side / 3) < side / 8
        for c in 0..<channels {
          let background = 60 + 120 * (x + c * y) / (2 * side)
          samples.append(UInt8(disc ? 240 - 60 * c : square ? 20 + 30 * c : background))
        }
      }
    }
    return Image(
      shape: ImageShape(height: side, width: side, channels: channels), eightBitSamples: samples)
  }

  @Test("images up to 32×32 get the seed's six, so digit explanations are the seed's")
  func digitsKeepTheSeedSet() throws {
    // Grey: the seed's own spelling, which means no Lab on a grey image, as the explicit one.
    let grey = SegmenterSpec.defaults(for: ImageShape(height: 28, width: 28, channels: 1))
    #expect(
      grey.map(\.description) == [
        "slic:25:0.01", "slic:25:0.1", "slic:25:1", "grid:5", "grid:7", "grid:11",
      ])
    let digit = try Fixtures.slicDigits().digits[0].image
    for (short, explicit) in zip(grey, SegmenterSpec.seedDefaults) {
      #expect(try short.makeSegmenter().segment(digit) == explicit.makeSegmenter().segment(digit))
    }
    #expect(
      SegmenterSpec.defaults(for: ImageShape(height: 32, width: 32, channels: 3))
        == SegmenterSpec.seedDefaults)
  }

  @Test(
    "larger images: SLIC in Lab at scikit-image's compactness for colour, 0.3 for grey; Felzenszwalb's minimum size grows with the image"
  )
  func largerImagesGetSizedSets() {
    let colour = SegmenterSpec.defaults(for: ImageShape(height: 224, width: 224, channels: 3)).map(
      \.description)
    #expect(
      colour == [
        "slic:50:10:0:10:1", "slic:100:10:0:10:1", "felzenszwalb:200:0.8:100",
        "quickshift:4:200:0.2", "grid:6", "grid:12",
      ])
    let grey = SegmenterSpec.defaults(for: ImageShape(height: 224, width: 224, channels: 1)).map(
      \.description)
    #expect(grey.prefix(2) == ["slic:50:0.3", "slic:100:0.3"])
    let large = SegmenterSpec.defaults(for: ImageShape(height: 512, width: 512, channels: 3)).map(
      \.description)
    #expect(large.contains("felzenszwalb:200:0.8:524"))
  }

  @Test(
    "every default segmenter splits a 128×128 scene into 3 to 300 segments, grey and colour",
    arguments: [1, 3])
  func defaultsGiveUsableSegmentations(channels: Int) throws {
    let image = Self.scene(side: 128, channels: channels)
    for spec in SegmenterSpec.defaults(for: image.shape) {
      let map = try spec.makeSegmenter().segment(image)
      #expect((3...300).contains(map.count), "\(spec): \(map.count) segments")
    }
  }
}

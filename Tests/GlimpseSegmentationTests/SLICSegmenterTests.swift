import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseSegmentation

/// Whether the slow reference checks run: always in release builds, in debug builds only with
/// `GLIMPSE_SLOW_TESTS=1` (SLIC on the 512 × 512 photo takes seconds unoptimised).
let slowTestsEnabled: Bool = {
  #if DEBUG
    return ProcessInfo.processInfo.environment["GLIMPSE_SLOW_TESTS"] == "1"
  #else
    return true
  #endif
}()

/// The comparison the brief asks of every reference fixture: adjusted Rand index ≥ 0.9 and a
/// segment count within 10 % of scikit-image's. (Measured: every digit and crop fixture gives
/// ARI 1.000, the same partition, see the exactness test below; the 512 × 512 photo, segmented
/// in `Float`, 0.99996 with the same 184 segments.)
func expectAgreement(
  _ ours: SegmentMap, _ reference: [Int], _ what: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let ari = adjustedRandIndex(ours.intLabels, reference)
  let expected = segmentCount(reference)
  #expect(ari >= 0.9, "\(what): ARI \(ari)", sourceLocation: sourceLocation)
  #expect(
    abs(ours.count - expected) * 10 <= expected,
    "\(what): \(ours.count) segments, scikit-image \(expected)", sourceLocation: sourceLocation)
}

@Suite("SLIC")
struct SLICSegmenterTests {
  static func segmenter(for fixture: SLICDigitFixtures.Case) -> SLICSegmenter {
    SLICSegmenter(
      segmentCount: fixture.segmentCount, compactness: fixture.compactness, sigma: fixture.sigma,
      convertToLab: fixture.convert2lab, greyAsRGB: fixture.input == "gray2rgb")
  }

  @Test(
    "agrees with scikit-image on six digits at the seed's settings (lime's gray2rgb copy)",
    arguments: [0.01, 0.1, 1.0])
  func seedSettingsMatchScikitImage(compactness: Double) throws {
    let fixtures = try Fixtures.slicDigits()
    let cases = fixtures.cases.filter {
      $0.input == "gray2rgb" && $0.compactness == compactness && !$0.convert2lab && $0.sigma == 0
    }
    #expect(cases.count == 6)
    for fixture in cases {
      // The seed's spec, not a hand-built segmenter: this is what `slic:25:c` means.
      let spec = SegmenterSpec(kind: .slic, parameters: [25, compactness])
      let map = try spec.makeSegmenter().segment(fixtures.digits[fixture.digit].image)
      expectAgreement(map, fixture.labels, fixture.testDescription)
    }
  }

  @Test("agrees with scikit-image on the 2-D grey array, the Lab copy and with smoothing")
  func otherDigitSettingsMatchScikitImage() throws {
    let fixtures = try Fixtures.slicDigits()
    let cases = fixtures.cases.filter { $0.input == "gray2d" || $0.convert2lab || $0.sigma > 0 }
    #expect(cases.count == 18)
    for fixture in cases {
      let map = Self.segmenter(for: fixture).segment(fixtures.digits[fixture.digit].image)
      expectAgreement(map, fixture.labels, fixture.testDescription)
    }
  }

  @Test("gives scikit-image's partition exactly on every digit fixture")
  func digitPartitionsAreIdentical() throws {
    // Without Lab the computation is +, −, ×, ÷ in scikit-image's order, so the partitions
    // are the same, not just close; with Lab they also are on these digits.
    let fixtures = try Fixtures.slicDigits()
    for fixture in fixtures.cases {
      let map = Self.segmenter(for: fixture).segment(fixtures.digits[fixture.digit].image)
      #expect(adjustedRandIndex(map.intLabels, fixture.labels) == 1, "\(fixture.testDescription)")
    }
  }

  @Test("agrees with scikit-image on a 128 × 128 crop of the photo (defaults; RGB with sigma 1)")
  func photoCropMatchesScikitImage() throws {
    let fixtures = try Fixtures.slicPhoto()
    let photo = try Fixtures.astronaut()
    let crop = photo.cropped(rows: fixtures.crop.rows, columns: fixtures.crop.columns)
    let lab = SLICSegmenter(segmentCount: fixtures.crop.segmentCount).segment(crop)
    expectAgreement(lab, fixtures.crop.labels, "crop, Lab, compactness 10")
    let rgb = SLICSegmenter(
      segmentCount: fixtures.cropRGB.segmentCount, compactness: 0.2, sigma: 1, convertToLab: false)
    expectAgreement(rgb.segment(crop), fixtures.cropRGB.labels, "crop, RGB, sigma 1")
  }

  @Test(
    "agrees with scikit-image on the 512 × 512 astronaut, n_segments 250, defaults",
    .enabled(if: slowTestsEnabled))
  func fullPhotoMatchesScikitImage() throws {
    let fixtures = try Fixtures.slicPhoto()
    let photo = try Fixtures.astronaut()
    #expect(photo.width == fixtures.width && photo.height == fixtures.height)
    let map = SLICSegmenter(segmentCount: fixtures.segmentCount).segment(photo)
    expectAgreement(map, fixtures.labels, "astronaut")
  }

  @Test(
    "slic:250:10 is scikit-image's slic(astronaut, 250, 10): ARI ≥ 0.99 (issue 19's bar)",
    .enabled(if: slowTestsEnabled))
  func specMeansScikitImageDefaults() throws {
    let fixtures = try Fixtures.slicPhoto()
    let photo = try Fixtures.astronaut()
    let map = try SegmenterSpec(parsing: "slic:250:10").makeSegmenter().segment(photo)
    let ari = adjustedRandIndex(map.intLabels, fixtures.labels)
    #expect(ari >= 0.99, "ARI \(ari)")
    #expect(map.count == segmentCount(fixtures.labels))
  }

  @Test("splits a half-black, half-white image into its halves")
  func halvesOfATwoToneImage() {
    // 8 × 16, n_segments 2: regular_grid puts seeds at (4, 4) and (4, 12), step 8.
    let row = [Double](repeating: 0, count: 8) + [Double](repeating: 1, count: 8)
    let image = Image(
      shape: ImageShape(height: 8, width: 16, channels: 1),
      pixels: Array([[Double]](repeating: row, count: 8).joined()))
    let map = SLICSegmenter(segmentCount: 2).segment(image)
    let expected = Array(
      [[Int]](repeating: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], count: 8).joined())
    #expect(map.intLabels == expected)
  }

  @Test(
    "places seeds with scikit-image's regular_grid (its docstring's examples)",
    arguments: [
      ([20, 40], 8, [GridAxis(start: 5, step: 10), GridAxis(start: 5, step: 10)]),
      ([20, 40], 32, [GridAxis(start: 2, step: 5), GridAxis(start: 2, step: 5)]),
      (
        [3, 20, 40], 8,
        [GridAxis(start: 1, step: 3), GridAxis(start: 5, step: 10), GridAxis(start: 5, step: 10)]
      ),
      // A digit at the seed's 25 segments: step round(5.6) = 6 from 2, so 5 × 5 seeds.
      (
        [1, 28, 28], 25,
        [GridAxis(start: 0, step: 1), GridAxis(start: 2, step: 6), GridAxis(start: 2, step: 6)]
      ),
      // The photo at 250: step 32 from 16, 16 × 16 = 256 seeds.
      (
        [1, 512, 512], 250,
        [GridAxis(start: 0, step: 1), GridAxis(start: 16, step: 32), GridAxis(start: 16, step: 32)]
      ),
      // More points than pixels: every pixel is a seed.
      (
        [1, 3, 4], 20,
        [GridAxis(start: 0, step: 1), GridAxis(start: 0, step: 1), GridAxis(start: 0, step: 1)]
      ),
    ])
  func regularGridMatchesScikitImage(shape: [Int], points: Int, expected: [GridAxis]) {
    #expect(SLICSegmenter.regularGrid(shape: shape, pointCount: points) == expected)
  }

  @Test("the photo gets 256 seeds for 250 segments, as scikit-image places them")
  func seedCount() {
    let seeds = SLICSegmenter.gridSeeds(height: 512, width: 512, count: 250)
    #expect(seeds.count == 256)
    #expect(seeds.step == 32)
    #expect(seeds.windowStepY == 32 && seeds.windowStepX == 32)
  }
}

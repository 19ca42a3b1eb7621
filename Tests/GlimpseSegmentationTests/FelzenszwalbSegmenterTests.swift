import GlimpseCore
import GlimpseSegmentation
import GlimpseTestSupport
import Testing

@Suite("Felzenszwalb")
struct FelzenszwalbSegmenterTests {
  @Test("agrees with scikit-image on digits (copy and 2-D array) and a 96 × 96 photo crop")
  func matchesScikitImage() throws {
    // Bar: ARI ≥ 0.9 and segments within 10 % (measured: ARI 1.000 on all 11 fixtures; ties
    // among equal edge weights, which NumPy's unstable sort orders its own way, did not matter).
    let fixtures = try Fixtures.felzenszwalb()
    let digits = try Fixtures.slicDigits().digits
    let crop = try Fixtures.astronaut().cropped(
      rows: fixtures.crop.rows, columns: fixtures.crop.columns)
    #expect(fixtures.cases.count == 11)
    for fixture in fixtures.cases {
      let image = fixture.digit >= 0 ? digits[fixture.digit].image : crop
      let segmenter = FelzenszwalbSegmenter(
        scale: fixture.scale, sigma: fixture.sigma, minSize: fixture.minSize,
        greyAsRGB: fixture.input != "gray2d")
      let map = segmenter.segment(image)
      expectAgreement(
        map, fixture.labels, "\(fixture.input) \(fixture.digit) scale \(fixture.scale)")
      #expect(everyLabelPresent(map))
    }
  }

  @Test("two flat halves, no smoothing, are two segments")
  func flatHalves() {
    let row = [Double](repeating: 0.2, count: 5) + [Double](repeating: 0.9, count: 5)
    let image = Image(
      shape: ImageShape(height: 6, width: 10, channels: 1),
      pixels: Array([[Double]](repeating: row, count: 6).joined()))
    let map = FelzenszwalbSegmenter(scale: 1, sigma: 0, minSize: 1).segment(image)
    #expect(
      map.intLabels == Array([[Int]](repeating: [0, 0, 0, 0, 0, 1, 1, 1, 1, 1], count: 6).joined()))
  }

  @Test("segments smaller than min_size are merged away")
  func minimumSize() throws {
    let digit = try Fixtures.slicDigits().digits[0].image
    for minSize in [5, 20, 60] {
      let map = FelzenszwalbSegmenter(scale: 100, sigma: 0.5, minSize: minSize).segment(digit)
      #expect((map.sizes.min() ?? 0) >= minSize)
    }
  }

  @Test("a grey image with greyAsRGB segments exactly as its three-channel copy")
  func greyAsRGBEqualsTheCopy() throws {
    let felzenszwalb = FelzenszwalbSegmenter(scale: 100, sigma: 0.5, minSize: 5)
    for digit in try Fixtures.slicDigits().digits {
      #expect(
        felzenszwalb.segment(digit.image)
          == felzenszwalb.segment(digit.image.converted(toChannels: 3)))
    }
  }
}

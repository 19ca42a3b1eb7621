import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseSegmentation

/// Whether every segment of a map is one 4-connected component.
func segmentsAreFourConnected(_ map: SegmentMap) -> Bool {
  var seen = [Bool](repeating: false, count: map.labels.count)
  var componentsPerLabel = [Int](repeating: 0, count: map.count)
  for start in 0..<map.labels.count where !seen[start] {
    let label = map.labels[start]
    componentsPerLabel[Int(label)] += 1
    var stack = [start]
    seen[start] = true
    while let p = stack.popLast() {
      let x = p % map.width
      let y = p / map.width
      for (nx, ny) in [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)]
      where nx >= 0 && nx < map.width && ny >= 0 && ny < map.height {
        let q = ny * map.width + nx
        if !seen[q] && map.labels[q] == label {
          seen[q] = true
          stack.append(q)
        }
      }
    }
  }
  return componentsPerLabel.allSatisfy { $0 == 1 }
}

/// Whether the labels are exactly `0..<count`, each used.
func everyLabelPresent(_ map: SegmentMap) -> Bool {
  var used = [Bool](repeating: false, count: map.count)
  for label in map.labels {
    guard label >= 0 && Int(label) < map.count else { return false }
    used[Int(label)] = true
  }
  return used.allSatisfy { $0 }
}

@Suite("SLIC properties")
struct SLICPropertyTests {
  @Test(
    "a grey image with greyAsRGB segments exactly as its three-channel copy",
    arguments: [false, true])
  func greyAsRGBEqualsTheCopy(lab: Bool) throws {
    let digits = try Fixtures.slicDigits().digits
    for compactness in [0.01, 0.1, 1, 10] {
      let slic = SLICSegmenter(segmentCount: 25, compactness: compactness, convertToLab: lab)
      for digit in digits {
        let grey = digit.image
        #expect(slic.segment(grey) == slic.segment(grey.converted(toChannels: 3)))
      }
    }
  }

  @Test("greyAsRGB = false segments the one channel, as scikit-image does the 2-D array")
  func greyAlone() throws {
    let fixtures = try Fixtures.slicDigits()
    let digit = fixtures.digits[0].image
    let single = SLICSegmenter(
      segmentCount: 25, compactness: 0.1, convertToLab: false, greyAsRGB: false)
    let copy = SLICSegmenter(segmentCount: 25, compactness: 0.1, convertToLab: false)
    // The anchor digit: 17 segments as the copy (the seed's meaning), 17 from the 2-D array
    // too but another partition.
    #expect(single.segment(digit) != copy.segment(digit))
  }

  @Test(
    "labels are unchanged when the image is scaled or offset (scikit-image rescales to [0, 1])",
    arguments: [(4.0, 0.0), (0.25, 0.0), (255.0, 0.0), (1.0, 1000.0)])
  func consistentAcrossImageMagnitude(scale: Double, offset: Double) throws {
    // test_slic_consistency_across_image_magnitude's idea. Powers of two scale exactly, so the
    // rescaled image is bit-identical; ×255 and +1000 change the last bits of the rescaled
    // values, which these images do not notice (scikit-image asserts equality for its cases).
    let digits = try Fixtures.slicDigits().digits
    let crop = try Fixtures.astronaut().cropped(rows: [100, 164], columns: [150, 214])
    let images = digits.prefix(3).map(\.image) + [crop]
    for image in images {
      let scaled = Image(shape: image.shape, pixels: image.pixels.map { $0 * scale + offset })
      for slic in [
        SLICSegmenter(segmentCount: 25, compactness: 0.1, convertToLab: false),
        SLICSegmenter(segmentCount: 25),
      ] {
        #expect(slic.segment(scaled) == slic.segment(image))
      }
    }
  }

  @Test("every segment is one 4-connected component and every label is used")
  func connectivityAndLabels() throws {
    let fixtures = try Fixtures.slicDigits()
    let crop = try Fixtures.astronaut().cropped(rows: [100, 228], columns: [150, 278])
    var maps = fixtures.cases.map {
      SLICSegmenterTests.segmenter(for: $0).segment(fixtures.digits[$0.digit].image)
    }
    maps.append(SLICSegmenter(segmentCount: 40).segment(crop))
    maps.append(SLICSegmenter(segmentCount: 100, compactness: 1, convertToLab: false).segment(crop))
    for map in maps {
      #expect(segmentsAreFourConnected(map))
      #expect(everyLabelPresent(map))
    }
  }

  @Test("without enforced connectivity, labels are the k-means clusters (and may be split)")
  func withoutConnectivity() throws {
    let digit = try Fixtures.slicDigits().digits[1].image
    let slic = SLICSegmenter(
      segmentCount: 25, compactness: 0.01, convertToLab: false, enforceConnectivity: false)
    let map = slic.segment(digit)
    #expect(everyLabelPresent(map))
    #expect(map.count <= 25)
  }

  @Test("results do not depend on how rows are split between threads")
  func bandIndependence() throws {
    // Assignment runs in bands of rows; a pixel's owner depends only on its candidates, so the
    // k-means labels are the same for one band or many.
    let crop = try Fixtures.astronaut().cropped(rows: [100, 228], columns: [150, 278])
    var features = FeaturePlanes(crop)
    features.rescaleToUnitRange()
    features.convertToLab(greyAsRGB: true)
    features.scale(by: 1.0 / 10)
    let seeds = SLICSegmenter.gridSeeds(height: 128, width: 128, count: 40)
    let reference = SLICSegmenter.kMeans(features, seeds: seeds, iterations: 10, bandHeight: 128)
    for bandHeight in [1, 3, 16, 50] {
      #expect(
        SLICSegmenter.kMeans(features, seeds: seeds, iterations: 10, bandHeight: bandHeight)
          == reference)
    }
  }
}

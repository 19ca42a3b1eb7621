import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseSegmentation

@Suite("SLIC on one thread and on two")
struct SLICThreadTests {
  /// Lab features of a 256 × 256 crop of the photo, scaled as `slic` scales them at its
  /// default compactness.
  static func photoFeatures() throws -> FeaturePlanes {
    let crop = try Fixtures.astronaut().cropped(rows: [64, 320], columns: [128, 384])
    var features = FeaturePlanes(crop)
    features.rescaleToUnitRange()
    features.convertToLab(greyAsRGB: true)
    features.scale(by: 1.0 / 10)
    return features
  }

  @Test("k-means labels are identical with one work item (one thread) and with two")
  func oneAndTwoThreadsAgree() throws {
    // One band and one centre-update item is exactly the single-threaded computation; the
    // default splits rows into bands and the centre sums into two items run on two threads.
    let features = try Self.photoFeatures()
    let seeds = SLICSegmenter.gridSeeds(height: 256, width: 256, count: 64)
    let single = SLICSegmenter.kMeans(
      features, seeds: seeds, iterations: 10, bandHeight: 256, workItems: 1)
    let double = SLICSegmenter.kMeans(features, seeds: seeds, iterations: 10, workItems: 2)
    let three = SLICSegmenter.kMeans(
      features, seeds: seeds, iterations: 10, bandHeight: 7, workItems: 3)
    #expect(single == double)
    #expect(single == three)
    #expect(Set(single).count > 40)
  }

  @Test("in double precision too (small images), labels do not depend on the bands")
  func smallImageBandsAgree() throws {
    // 96 × 96 is below the `Float` threshold (2¹⁴ pixels); the 256 × 256 crop above is above.
    let crop = try Fixtures.astronaut().cropped(rows: [200, 296], columns: [200, 296])
    var features = FeaturePlanes(crop)
    features.rescaleToUnitRange()
    features.convertToLab(greyAsRGB: true)
    features.scale(by: 1.0 / 10)
    let seeds = SLICSegmenter.gridSeeds(height: 96, width: 96, count: 30)
    let whole = SLICSegmenter.kMeans(features, seeds: seeds, iterations: 10, workItems: 1)
    let banded = SLICSegmenter.kMeans(
      features, seeds: seeds, iterations: 10, bandHeight: 5, workItems: 3)
    #expect(whole == banded)
    #expect(Set(whole).count > 15)
  }

  @Test("segmenting the same image twice gives the same map")
  func repeatable() throws {
    let crop = try Fixtures.astronaut().cropped(rows: [0, 192], columns: [0, 192])
    let slic = SLICSegmenter(segmentCount: 60)
    #expect(slic.segment(crop) == slic.segment(crop))
  }
}

import GlimpseCore
import Testing

@testable import GlimpseSegmentation

/// Whether two label lists are the same partition: a one-to-one map between their labels.
func samePartition(_ a: [Int], _ b: [Int]) -> Bool {
  guard a.count == b.count else { return false }
  var forward: [Int: Int] = [:]
  var backward: [Int: Int] = [:]
  for (x, y) in zip(a, b) {
    if forward[x, default: y] != y || backward[y, default: x] != x { return false }
    forward[x] = y
    backward[y] = x
  }
  return true
}

/// The labels of `map` in rows `rows` and columns `columns` (half-open), as a set.
func labelsIn(_ map: SegmentMap, rows: Range<Int>, columns: Range<Int>) -> Set<Int> {
  var seen = Set<Int>()
  for y in rows { for x in columns { seen.insert(map[x, y]) } }
  return seen
}

@Suite("Segmenter options (scikit-image's tests of mask, slic_zero, spacing, sigma per axis)")
struct SegmenterOptionsTests {
  static let cases = (try? Fixtures.segmenterOptions().cases) ?? []

  @Test("maskSLIC's seeds start from NumPy's RandomState(123).permutation, reproduced")
  func legacyPermutation() throws {
    var generator = LegacyMT19937(seed: 123)
    #expect(generator.permutation(20) == (try Fixtures.segmenterOptions()).permutation123)
  }

  @Test("each spec gives scikit-image's partition of its call exactly", arguments: cases)
  func matchesScikitImage(fixture: SegmenterOptionFixtures.Case) throws {
    let image = try Fixtures.image(of: fixture)
    let mask = Fixtures.mask(of: fixture, for: image)
    let segmenter = try SegmenterSpec(parsing: fixture.spec).makeSegmenter(mask: mask)
    let map: SegmentMap
    if let noise = fixture.noise, let quickshift = segmenter as? QuickshiftSegmenter {
      map = quickshift.segment(image, densityJitter: noise)
    } else {
      map = segmenter.segment(image)
    }
    let reference = expandRuns(fixture.labels)
    if let stable = fixture.stableSortLabels {
      // At scale 0 nothing merges by weight, so the partition is decided by the order of
      // equal-weight edges in the min_size pass: NumPy's unstable sort's order in
      // scikit-image, which depends on NumPy's sort kernels, and edge position in ours (see
      // FelzenszwalbSegmenter). With np.argsort made stable, scikit-image takes ties in edge
      // order too, and its partition must then be ours exactly; both keep min_size.
      let stableReference = expandRuns(stable)
      #expect(
        samePartition(map.intLabels, stableReference),
        "\(fixture.call) with a stable argsort: ARI \(adjustedRandIndex(map.intLabels, stableReference)), \(map.count) segments, scikit-image \(segmentCount(stableReference))"
      )
      let minSize = fixture.spec.hasSuffix(":5") ? 5 : 20
      #expect(map.sizes.allSatisfy { $0 >= minSize }, "\(fixture.name): \(map.sizes)")
      #expect(reference.count == map.labels.count)
      return
    }
    #expect(
      samePartition(map.intLabels, reference),
      "\(fixture.call): ARI \(adjustedRandIndex(map.intLabels, reference)), \(map.count) segments, scikit-image \(segmentCount(reference))"
    )
    if let mask {
      // scikit-image's label 0 is the outside; ours is the last label.
      let outside = map.count - 1
      for p in mask.inside.indices where !mask.inside[p] {
        #expect(Int(map.labels[p]) == outside, "\(fixture.name): outside pixel \(p)")
      }
      #expect(map.segments(inside: mask) == Array(0..<outside))
    }
  }

  /// The assertions of scikit-image's `test_color_2d_mask`, `test_gray_2d_mask` and
  /// `test_slic_zero_mask`: four segments on the quadrants inside a 2-pixel frame, the frame
  /// outside.
  @Test(
    "quadrants inside a frame: four segments and the outside (test_*_2d_mask, test_slic_zero_mask)",
    arguments: ["test_color_2d_mask", "test_gray_2d_mask", "test_slic_zero_mask"])
  func quadrantsInsideFrame(name: String) throws {
    let fixture = try #require(Self.cases.first { $0.name == name })
    let image = try Fixtures.image(of: fixture)
    let mask = Fixtures.mask(of: fixture, for: image)
    let map = try SegmenterSpec(parsing: fixture.spec).makeSegmenter(mask: mask).segment(image)
    #expect(map.count == 5)
    let quadrants = [
      labelsIn(map, rows: 2..<10, columns: 2..<10), labelsIn(map, rows: 2..<10, columns: 10..<19),
      labelsIn(map, rows: 10..<18, columns: 2..<10), labelsIn(map, rows: 10..<18, columns: 10..<19),
    ]
    #expect(quadrants.allSatisfy { $0.count == 1 })
    #expect(Set(quadrants.map { $0.first ?? -1 }).count == 4)
    #expect(labelsIn(map, rows: 0..<2, columns: 0..<21) == [4])
    #expect(labelsIn(map, rows: 0..<20, columns: 19..<21) == [4])
  }

  @Test("test_spacing: spacing 500 along rows splits the two rows instead of the columns")
  func spacingSplitsRows() throws {
    let plain = try #require(Self.cases.first { $0.name == "test_spacing/non_spaced" })
    let spaced = try #require(Self.cases.first { $0.name == "test_spacing/spaced" })
    let image = try Fixtures.image(of: plain)
    let a = try SegmenterSpec(parsing: plain.spec).makeSegmenter().segment(image)
    let b = try SegmenterSpec(parsing: spaced.spec).makeSegmenter().segment(image)
    #expect(a.intLabels == [0, 0, 0, 1, 1, 0, 0, 1, 1, 1])
    #expect(b.intLabels == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
  }

  @Test("test_list_sigma(_mask): sigma 50 along rows, 1 along columns")
  func sigmaPerAxis() throws {
    let plain = try #require(Self.cases.first { $0.name == "test_list_sigma" })
    let masked = try #require(Self.cases.first { $0.name == "test_list_sigma_mask" })
    let image = try Fixtures.image(of: plain)
    let a = try SegmenterSpec(parsing: plain.spec).makeSegmenter().segment(image)
    #expect(a.intLabels == [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1])
    let maskedImage = try Fixtures.image(of: masked)
    let mask = Fixtures.mask(of: masked, for: maskedImage)
    let b = try SegmenterSpec(parsing: masked.spec).makeSegmenter(mask: mask).segment(maskedImage)
    // scikit-image: [[0, 1, 1, 2, 2, 0], …], its 0 (outside) is our last label, 2.
    #expect(b.intLabels == [2, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2])
  }

  @Test("test_more_segments_than_pixels_mask: one segment per inside pixel, in raster order")
  func moreSegmentsThanPixelsMask() throws {
    let fixture = try #require(
      Self.cases.first { $0.name == "test_more_segments_than_pixels_mask" })
    let image = try Fixtures.image(of: fixture)
    let mask = try #require(Fixtures.mask(of: fixture, for: image))
    let map = try SegmenterSpec(parsing: fixture.spec).makeSegmenter(mask: mask).segment(image)
    var expected = 0
    for y in 2..<18 {
      for x in 2..<19 {
        #expect(map[x, y] == expected)
        expected += 1
      }
    }
    #expect(map.count == expected + 1)
  }

  @Test("felzenszwalb test_grey: four segments, each mostly one grey level; scale 0 allowed")
  func felzenszwalbGrey() throws {
    let fixture = try #require(Self.cases.first { $0.name == "felzenszwalb test_grey" })
    let image = try Fixtures.image(of: fixture)
    let map = try SegmenterSpec(parsing: fixture.spec).makeSegmenter().segment(image)
    #expect(map.count == 4)
    let zero = try SegmenterSpec(parsing: "felzenszwalb:0:0").makeSegmenter().segment(image)
    #expect(zero.count >= map.count)
  }

  @Test("a mask only reaches SLIC, and bad named parameters are refused")
  func maskOnlyForSLIC() {
    let mask = RegionMask(width: 2, height: 1, inside: [true, false])
    #expect(throws: SegmenterSpecError.self) {
      try SegmenterSpec(parsing: "grid:2").makeSegmenter(mask: mask)
    }
  }
}

@Suite("Masks and segment maps")
struct RegionMaskTests {
  @Test("restricted(to:) cuts straddling segments and puts the outside last")
  func restricted() {
    let map = SegmentMap(width: 4, height: 1, relabeling: [0, 0, 1, 1])
    let mask = RegionMask(width: 4, height: 1, inside: [false, true, true, false])
    let cut = map.restricted(to: mask)
    #expect(cut.intLabels == [2, 0, 1, 2])
    #expect(cut.segments(inside: mask) == [0, 1])
  }

  @Test("a mask from an image: any non-zero channel is inside")
  func fromImage() {
    let image = Image(
      shape: ImageShape(height: 1, width: 3, channels: 3), pixels: [0, 0, 0, 0, 0.5, 0, 1, 1, 1])
    #expect(RegionMask(image: image).inside == [false, true, true])
  }
}

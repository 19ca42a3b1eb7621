import GlimpseCore
import GlimpseSegmentation
import Testing

@Suite("Segmenter specs")
struct SegmenterSpecTests {
  @Test(
    "description round-trips, and the segmenter gives its spec back",
    arguments: [
      "slic:25:0.01", "slic:25:0.1", "slic:25:1", "slic:250:10:0:10:1", "slic:100:5:1.5",
      "slic:100:5:0:3", "grid:5", "grid:7", "grid:11", "felzenszwalb", "felzenszwalb:100",
      "felzenszwalb:100:0.5:5", "quickshift", "quickshift:4:200:0.2", "slic:25:0.01:0:10:0",
      "slic:250:10", "slic:30:10:0:10:1:spacing=2,1:slic_zero=1", "slic:30:10:sigma=2,0.5",
      "slic:25:0.1:gray2rgb=0", "slic:4:10:enforce_connectivity=0:max_size_factor=0.8",
      "felzenszwalb:0", "felzenszwalb:1:0:gray2rgb=0", "quickshift:2:3:convert2lab=0:gray2rgb=0",
      "quickshift:4:sigma=1",
    ])
  func roundTrip(text: String) throws {
    let spec = try SegmenterSpec(parsing: text)
    #expect(spec.description == text)
    #expect(try SegmenterSpec(parsing: spec.description) == spec)
    #expect(try spec.makeSegmenter().spec == spec)
  }

  @Test("the seed's six specs build SLIC without Lab (said explicitly) and grids")
  func seedDefaults() throws {
    #expect(
      SegmenterSpec.seedDefaults.prefix(3).map(\.description) == [
        "slic:25:0.01:0:10:0", "slic:25:0.1:0:10:0", "slic:25:1:0:10:0",
      ])
    let segmenters = try SegmenterSpec.seedDefaults.map { try $0.makeSegmenter() }
    let slics = segmenters.compactMap { $0 as? SLICSegmenter }
    #expect(slics.map(\.compactness) == [0.01, 0.1, 1])
    #expect(slics.allSatisfy { $0.segmentCount == 25 && $0.convertToLab == false && $0.greyAsRGB })
    #expect(slics.allSatisfy { $0.maxIterations == 10 && $0.sigma == 0 && $0.enforceConnectivity })
    #expect(segmenters.compactMap { ($0 as? GridSegmenter)?.cellsPerSide } == [5, 7, 11])
  }

  @Test("missing trailing parameters take scikit-image's defaults")
  func defaults() throws {
    let slic = try #require(try SegmenterSpec(parsing: "slic").makeSegmenter() as? SLICSegmenter)
    #expect(slic.segmentCount == 100 && slic.compactness == 10 && slic.sigma == 0)
    // scikit-image's convert2lab=None: Lab for three channels, decided on the image.
    #expect(slic.maxIterations == 10 && slic.convertToLab == nil)
    #expect(slic.spacing == (1, 1) && !slic.slicZero && slic.sigmaPerAxis == nil)
    let lab = try #require(
      try SegmenterSpec(parsing: "slic:250:10:0:10:1").makeSegmenter() as? SLICSegmenter)
    #expect(lab.convertToLab == true && lab.segmentCount == 250)
    let named = try #require(
      try SegmenterSpec(parsing: "slic:n_segments=250:compactness=10:convert2lab=0")
        .makeSegmenter() as? SLICSegmenter)
    #expect(named.segmentCount == 250 && named.compactness == 10 && named.convertToLab == false)
    let felzenszwalb = try #require(
      try SegmenterSpec(parsing: "felzenszwalb").makeSegmenter() as? FelzenszwalbSegmenter)
    #expect(felzenszwalb.scale == 1 && felzenszwalb.sigma == 0.8 && felzenszwalb.minSize == 20)
    let quickshift = try #require(
      try SegmenterSpec(parsing: "quickshift:3").makeSegmenter() as? QuickshiftSegmenter)
    #expect(quickshift.kernelSize == 3 && quickshift.maxDistance == 10 && quickshift.ratio == 1)
    #expect(quickshift.convertToLab && quickshift.sigma == 0)
  }

  @Test(
    "bad specs are refused with the documented reason",
    arguments: [
      ("watershed:5", "unknown segmenter; use one of slic, grid, felzenszwalb, quickshift"),
      ("slic:25:abc", "'abc' is not a number"),
      ("slic:25:nan", "'nan' is not a number"),
      ("slic:0:0.1", "n_segments must be at least 1, got 0"),
      ("slic:2.5:0.1", "n_segments must be an integer, got 2.5"),
      ("slic:25:0", "compactness must be positive, got 0"),
      ("slic:25:-1", "compactness must be positive, got -1"),
      ("slic:25:0.1:-0.5", "sigma must not be negative, got -0.5"),
      ("slic:25:0.1:0:0", "max_num_iter must be at least 1, got 0"),
      ("slic:25:0.1:0:10:2", "convert2lab must be 0 or 1, got 2"),
      (
        "slic:25:0.1:0:10:1:7",
        "slic takes at most 5 parameters (slic:n_segments:compactness:sigma:max_num_iter:convert2lab), got 6"
      ),
      ("grid", "grid needs n, the cells per side (grid:7)"),
      ("grid:0", "n must be at least 1, got 0"),
      ("grid:3.5", "n must be an integer, got 3.5"),
      ("grid:3:3", "grid takes at most 1 parameter (grid:n), got 2"),
      ("felzenszwalb:-1", "scale must not be negative, got -1"),
      ("slic:25:spacing=1", "spacing takes 2 values, got 1"),
      ("slic:25:spacing=0,1", "spacing must be positive, got 0"),
      ("slic:25:sigma=1,2,3", "sigma takes 1 or 2 values, got 3"),
      ("slic:25:0.1:0:compactness=2", "compactness is given both by position and by name"),
      (
        "slic:25:colour=1",
        "slic has no parameter 'colour'; use n_segments, compactness, sigma, max_num_iter, convert2lab, slic_zero, spacing, enforce_connectivity, min_size_factor, max_size_factor, gray2rgb"
      ),
      ("slic:25:slic_zero=2", "slic_zero must be 0 or 1, got 2"),
      ("quickshift:5:gray2rgb=0.5", "gray2rgb must be 0 or 1, got 0.5"),
      ("felzenszwalb:1:-1", "sigma must not be negative, got -1"),
      ("felzenszwalb:1:0.8:-3", "min_size must be at least 0, got -3"),
      ("felzenszwalb:1:0.8:2.5", "min_size must be an integer, got 2.5"),
      ("quickshift:0.5", "kernel_size must be at least 1, got 0.5"),
      ("quickshift:5:-1", "max_dist must not be negative, got -1"),
      ("quickshift:5:10:-0.2", "ratio must not be negative, got -0.2"),
      (
        "quickshift:5:10:1:0",
        "quickshift takes at most 3 parameters (quickshift:kernel_size:max_dist:ratio), got 4"
      ),
    ])
  func badSpecs(text: String, reason: String) {
    #expect {
      try SegmenterSpec(parsing: text).makeSegmenter()
    } throws: { error in
      guard let error = error as? SegmenterSpecError else { return false }
      return error.reason == reason && error.description.hasSuffix(": " + reason)
    }
  }
}

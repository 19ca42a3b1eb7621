import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import GlimpseSegmentation

// segmenter_options.json, written by Fixtures/scripts/make_slic_option_fixtures.py: scikit-image
// 0.26's own tests of SLIC's mask, slic_zero, spacing and per-axis sigma, felzenszwalb and
// quickshift on grey images, and our cases on the photo and a digit.

/// `segmenter_options.json`.
struct SegmenterOptionFixtures: Decodable {
  struct Picture: Decodable {
    var height: Int
    var width: Int
    var channels: Int
    var pixels: [Double]
  }

  /// Where a case's image comes from when it is not stored.
  struct Reference: Decodable {
    /// `[row start, row stop, column start, column stop]` of samples/photos/astronaut.png.
    var photo: [Int]?
    /// A digit of slic_digits.json.
    var digit: Int?
  }

  struct Case: Decodable, CustomTestStringConvertible {
    var name: String
    var kind: String
    /// The spec that should mean scikit-image's call.
    var spec: String
    var call: String
    /// Run lengths of scikit-image's labels.
    var labels: [Int]
    var image: Picture?
    var imageRef: Reference?
    /// Run lengths of the mask (1 inside).
    var mask: [Int]?
    /// quickshift's density noise.
    var noise: [Double]?
    /// felzenszwalb at scale 0: run lengths of scikit-image's labels with `np.argsort` made
    /// stable (its equal-weight edges then come in edge order, as ours do).
    var stableSortLabels: [Int]?

    enum CodingKeys: String, CodingKey {
      case name, kind, spec, call, labels, image, mask, noise
      case imageRef = "image_ref"
      case stableSortLabels = "labels_stable_sort"
    }

    var testDescription: String { "\(name): \(spec)" }
  }

  var permutation123: [Int]
  var cases: [Case]
}

/// Expands `[value, length, …]`.
func expandRuns(_ runs: [Int]) -> [Int] {
  var values: [Int] = []
  for i in stride(from: 0, to: runs.count, by: 2) {
    values.append(contentsOf: repeatElement(runs[i], count: runs[i + 1]))
  }
  return values
}

extension Fixtures {
  static func segmenterOptions() throws -> SegmenterOptionFixtures {
    try loadJSON(SegmenterOptionFixtures.self, from: folder + "/segmenter_options.json")
  }

  /// A case's image: stored, a crop of the photo, or a digit.
  static func image(of fixture: SegmenterOptionFixtures.Case) throws -> Image {
    if let picture = fixture.image {
      return Image(
        shape: ImageShape(
          height: picture.height, width: picture.width, channels: picture.channels),
        pixels: picture.pixels)
    }
    if let box = fixture.imageRef?.photo {
      return try astronaut().cropped(rows: [box[0], box[1]], columns: [box[2], box[3]])
    }
    let digit = try #require(fixture.imageRef?.digit)
    return try slicDigits().digits[digit].image
  }

  /// A case's mask, or `nil`.
  static func mask(of fixture: SegmenterOptionFixtures.Case, for image: Image) -> RegionMask? {
    fixture.mask.map {
      RegionMask(width: image.width, height: image.height, inside: expandRuns($0).map { $0 != 0 })
    }
  }
}

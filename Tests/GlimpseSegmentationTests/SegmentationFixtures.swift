import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

// The scikit-image 0.26 label maps written by Fixtures/scripts/make_segmentation_fixtures.py.

/// A digit stored as its 784 bytes.
struct FixtureDigit: Decodable {
  var row: Int
  var `class`: Int
  var bytes: [UInt8]

  /// The digit as the pipelines see it: a 28×28 grey image, pixels / 255.
  var image: Image {
    Image(shape: ImageShape(height: 28, width: 28, channels: 1), eightBitSamples: bytes)
  }
}

/// `slic_digits.json`.
struct SLICDigitFixtures: Decodable {
  struct Case: Decodable, CustomTestStringConvertible {
    var digit: Int
    /// "gray2rgb" (lime's three-channel copy) or "gray2d" (the 2-D array).
    var input: String
    var segmentCount: Int
    var compactness: Double
    var sigma: Double
    var convert2lab: Bool
    var labels: [Int]

    enum CodingKeys: String, CodingKey {
      case digit, input, compactness, sigma, convert2lab, labels
      case segmentCount = "n_segments"
    }

    var testDescription: String {
      "digit \(digit) \(input) c=\(compactness) sigma=\(sigma) lab=\(convert2lab)"
    }
  }
  var digits: [FixtureDigit]
  var cases: [Case]
}

/// `slic_astronaut.json`.
struct SLICPhotoFixtures: Decodable {
  struct Crop: Decodable {
    var rows: [Int]
    var columns: [Int]
    var segmentCount: Int
    var compactness: Double?
    var labels: [Int]

    enum CodingKeys: String, CodingKey {
      case rows, columns, compactness, labels
      case segmentCount = "n_segments"
    }
  }
  var height: Int
  var width: Int
  var segmentCount: Int
  /// `[value, length, value, length, …]` of the row-major labels.
  var runs: [Int]
  var crop: Crop
  var cropRGB: Crop

  enum CodingKeys: String, CodingKey {
    case height, width, runs, crop
    case segmentCount = "n_segments"
    case cropRGB = "crop_rgb"
  }

  /// The full label map, decoded from its runs.
  var labels: [Int] {
    var labels: [Int] = []
    labels.reserveCapacity(height * width)
    for i in stride(from: 0, to: runs.count, by: 2) {
      labels.append(contentsOf: repeatElement(runs[i], count: runs[i + 1]))
    }
    return labels
  }
}

/// `felzenszwalb.json`.
struct FelzenszwalbFixtures: Decodable {
  struct Region: Decodable {
    var rows: [Int]
    var columns: [Int]
  }
  struct Case: Decodable {
    var digit: Int
    /// "gray2rgb", "gray2d" or "photo" (the crop).
    var input: String
    var scale: Double
    var sigma: Double
    var minSize: Int
    var labels: [Int]

    enum CodingKeys: String, CodingKey {
      case digit, input, scale, sigma, labels
      case minSize = "min_size"
    }
  }
  var crop: Region
  var cases: [Case]
}

/// `quickshift.json`.
struct QuickshiftFixtures: Decodable {
  struct Case: Decodable {
    var digit: Int
    var input: String
    var kernelSize: Double
    var maxDistance: Double
    var ratio: Double
    var labels: [Int]

    enum CodingKeys: String, CodingKey {
      case digit, input, ratio, labels
      case kernelSize = "kernel_size"
      case maxDistance = "max_dist"
    }
  }
  var crop: FelzenszwalbFixtures.Region
  /// NumPy's `default_rng(42).normal(scale=1e-5, size=(h, w))`, keyed "HxW".
  var noise: [String: [Double]]
  var cases: [Case]
}

/// Loads the fixtures once per test process.
enum Fixtures {
  static let folder = TestPaths.fixtures("GlimpseSegmentationTests")

  static func slicDigits() throws -> SLICDigitFixtures {
    try loadJSON(SLICDigitFixtures.self, from: folder + "/slic_digits.json")
  }

  static func slicPhoto() throws -> SLICPhotoFixtures {
    try loadJSON(SLICPhotoFixtures.self, from: folder + "/slic_astronaut.json")
  }

  static func felzenszwalb() throws -> FelzenszwalbFixtures {
    try loadJSON(FelzenszwalbFixtures.self, from: folder + "/felzenszwalb.json")
  }

  static func quickshift() throws -> QuickshiftFixtures {
    try loadJSON(QuickshiftFixtures.self, from: folder + "/quickshift.json")
  }

  /// `samples/photos/astronaut.png` (skimage.data.astronaut()), pixels / 255.
  static func astronaut() throws -> Image {
    try PNGCodec.decode(FileBytes.readRaw(TestPaths.samples + "/photos/astronaut.png"))
  }
}

extension Image {
  /// Rows `rows` and columns `columns` (half-open, as NumPy slices) of the image.
  func cropped(rows: [Int], columns: [Int]) -> Image {
    let height = rows[1] - rows[0]
    let width = columns[1] - columns[0]
    var pixels: [Double] = []
    pixels.reserveCapacity(height * width * channels)
    for y in rows[0]..<rows[1] {
      let start = (y * self.width + columns[0]) * channels
      pixels.append(contentsOf: self.pixels[start..<(start + width * channels)])
    }
    return Image(
      shape: ImageShape(height: height, width: width, channels: channels), pixels: pixels)
  }
}

extension SegmentMap {
  /// The labels as `Int`s, for comparisons.
  var intLabels: [Int] { labels.map { Int($0) } }
}

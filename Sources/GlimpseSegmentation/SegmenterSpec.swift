import GlimpseCore

/// A segmenter named the way the command line names it: `kind:parameter:parameter…`.
///
/// `slic:25:0.01` is SLIC with 25 segments at compactness 0.01, `grid:7` a 7 × 7 grid. The text
/// is parsed once into this typed value; `makeSegmenter()` builds the segmenter and checks the
/// parameters, and `description` gives the text back.
///
/// Parameter orders (trailing parameters may be left out and take the default in brackets,
/// scikit-image's except SLIC's `convert2lab`, which follows the seed notebook):
///
/// - `slic:n_segments:compactness:sigma:max_num_iter:convert2lab`: `SLICSegmenter`, with
///   n_segments [100], compactness [10], sigma [0], max_num_iter [10] and convert2lab 0 or 1
///   [0, no Lab, as lime's seed calls it]; `slic:250:10:0:10:1` is scikit-image's
///   `slic(image, n_segments=250)` with its Lab conversion. Grey images are segmented as
///   lime's three-channel `gray2rgb` copy, which is what the seed's compactness values mean.
/// - `grid:n`: `GridSegmenter`, n × n cells (n required).
/// - `felzenszwalb:scale:sigma:min_size`: `FelzenszwalbSegmenter`, [1], [0.8], [20].
/// - `quickshift:kernel_size:max_dist:ratio`: `QuickshiftSegmenter`, [5], [10], [1], always
///   in Lab (scikit-image's `convert2lab=True`).
public struct SegmenterSpec: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The segmentation algorithm.
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
    case slic, grid, felzenszwalb, quickshift
  }

  /// The algorithm.
  public var kind: Kind
  /// Its parameters in the documented order.
  public var parameters: [Double]

  /// A spec from its parts.
  public init(kind: Kind, parameters: [Double]) {
    self.kind = kind
    self.parameters = parameters
  }

  /// Parses `kind:p1:p2…`.
  /// - Throws: `SegmenterSpecError` for an unknown kind or a parameter that is not a number.
  public init(parsing text: String) throws(SegmenterSpecError) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard let name = parts.first, let kind = Kind(rawValue: name.lowercased()) else {
      throw SegmenterSpecError(
        spec: text,
        reason:
          "unknown segmenter; use one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    var parameters: [Double] = []
    for part in parts.dropFirst() {
      guard let value = Double(part), value.isFinite else {
        throw SegmenterSpecError(spec: text, reason: "'\(part)' is not a number")
      }
      parameters.append(value)
    }
    self.init(kind: kind, parameters: parameters)
  }

  /// `kind:p1:p2…`, integers without a decimal point.
  public var description: String {
    ([kind.rawValue]
      + parameters.map { value in
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
      }).joined(separator: ":")
  }

  /// The seed notebook's six segmenters: SLIC with 25 segments at compactness 0.01, 0.1 and 1
  /// (no Lab conversion), and grids of 5, 7 and 11 cells a side.
  public static let seedDefaults: [SegmenterSpec] = [
    SegmenterSpec(kind: .slic, parameters: [25, 0.01]),
    SegmenterSpec(kind: .slic, parameters: [25, 0.1]),
    SegmenterSpec(kind: .slic, parameters: [25, 1]),
    SegmenterSpec(kind: .grid, parameters: [5]),
    SegmenterSpec(kind: .grid, parameters: [7]),
    SegmenterSpec(kind: .grid, parameters: [11]),
  ]

  /// The default segmenters for images of `shape`.
  ///
  /// Digits and other images up to 32×32 get the seed's six (`seedDefaults`), so the seed's
  /// explanations are reproduced. The seed's SLIC settings are tuned to 28×28 digits: on a
  /// 224×224 image `slic:25:0.01` gives one or two segments. Larger images get six segmenters
  /// of the kinds lime and scikit-image users know, at sizes that give LIME 30–150 features
  /// whatever the resolution (its sample budget does not grow with the pixels):
  /// - SLIC with 50 and 100 segments: for colour, scikit-image's defaults (compactness 10 in
  ///   CIE Lab, `convert2lab=1`); for grey, compactness 0.3 on intensities in [0, 1] (scikit-
  ///   image's 10 assumes Lab's 0–100 range and gives a plain grid on grey values);
  /// - Felzenszwalb at scale 200, σ 0.8, minimum size 1/500 of the image (70–80 segments at
  ///   224×224);
  /// - quickshift as `lime_image` calls it by default (kernel 4, max_dist 200, ratio 0.2);
  /// - grids of 6 and 12 cells a side.
  public static func defaults(for shape: ImageShape) -> [SegmenterSpec] {
    guard shape.height > 32 || shape.width > 32 else { return seedDefaults }
    let pixels = Double(shape.height) * Double(shape.width)
    let minimumSize = max(20, (pixels / 500).rounded())
    let slic: [SegmenterSpec] =
      shape.channels >= 3
      ? [
        SegmenterSpec(kind: .slic, parameters: [50, 10, 0, 10, 1]),
        SegmenterSpec(kind: .slic, parameters: [100, 10, 0, 10, 1]),
      ]
      : [
        SegmenterSpec(kind: .slic, parameters: [50, 0.3]),
        SegmenterSpec(kind: .slic, parameters: [100, 0.3]),
      ]
    return slic + [
      SegmenterSpec(kind: .felzenszwalb, parameters: [200, 0.8, minimumSize]),
      SegmenterSpec(kind: .quickshift, parameters: [4, 200, 0.2]),
      SegmenterSpec(kind: .grid, parameters: [6]),
      SegmenterSpec(kind: .grid, parameters: [12]),
    ]
  }
}

/// A segmenter spec that cannot be used.
public struct SegmenterSpecError: GlimpseError, Equatable {
  /// The text given.
  public var spec: String
  /// What is wrong with it.
  public var reason: String

  /// An error for a spec.
  public init(spec: String, reason: String) {
    self.spec = spec
    self.reason = reason
  }

  /// One line naming the spec and what is wrong with it.
  public var description: String { "segmenter '\(spec)': \(reason)" }
}

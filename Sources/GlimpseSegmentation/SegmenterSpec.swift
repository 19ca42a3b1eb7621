import GlimpseCore

/// A segmenter named the way the command line names it: `kind:parameter:…:name=value…`.
///
/// `slic:25:0.01:0:10:0` is SLIC with 25 segments at compactness 0.01 without Lab, `grid:7` a
/// 7 × 7 grid. The text is parsed once into this typed value; `makeSegmenter()` builds the
/// segmenter and checks the parameters, and `description` gives the text back.
///
/// Positional parameters come first, in the orders below; trailing ones may be left out. After
/// them come named parameters `name=value` with scikit-image's argument names, a list of
/// numbers separated by commas where scikit-image takes one per axis (rows, then columns). Any
/// positional parameter may be given by name instead, each in its own part
/// (`slic:n_segments=250:compactness=10`). A parameter left out takes scikit-image 0.26's
/// default (in brackets), so a spec means what the same call means in scikit-image:
///
/// - `slic:n_segments:compactness:sigma:max_num_iter:convert2lab`: `SLICSegmenter`, n_segments
///   [100], compactness [10], sigma [0], max_num_iter [10], convert2lab 0 or 1 [scikit-image's
///   `None`: Lab for a three-channel image, none for grey, which scikit-image reads with
///   `channel_axis=None`]. `slic:250:10` is `slic(image, 250, 10)`. Named only: `sigma=σy,σx`
///   (per axis), `spacing=row,column` [1,1], `slic_zero=0|1` [0], `enforce_connectivity=0|1`
///   [1], `min_size_factor` [0.5], `max_size_factor` [3], and `gray2rgb=0|1` [1]: a grey image
///   is segmented as lime's three-channel `gray2rgb` copy (1, what the seed's compactness
///   values mean) or as scikit-image's one channel (0). The seed's specs spell out
///   `convert2lab` 0 (`slic:25:0.01:0:10:0`) because lime's seed calls `convert2lab=False`.
///   A region of interest (scikit-image's `mask`) is an image, not text: see
///   `SLICSegmenter.mask` and `makeSegmenter(mask:)`; its outside is the map's last label.
/// - `grid:n`: `GridSegmenter`, n × n cells (n required).
/// - `felzenszwalb:scale:sigma:min_size`: `FelzenszwalbSegmenter`, scale ≥ 0 [1], [0.8], [20];
///   named `gray2rgb=0|1` [1].
/// - `quickshift:kernel_size:max_dist:ratio`: `QuickshiftSegmenter`, [5], [10], [1]; named
///   `sigma` [0], `convert2lab=0|1` [1] and `gray2rgb=0|1` [1]: a grey image as lime's
///   three-channel copy (1) or, as scikit-image's `quickshift(grey, convert2lab=False)` on the
///   2-D array, one channel never converted to Lab (0; scikit-image refuses Lab there).
public struct SegmenterSpec: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The segmentation algorithm.
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
    case slic, grid, felzenszwalb, quickshift
  }

  /// A named parameter, `name=v1,v2…`.
  public struct Option: Sendable, Hashable, Codable {
    /// scikit-image's argument name, e.g. `spacing`.
    public var name: String
    /// Its values: one number, or one per axis (rows, then columns).
    public var values: [Double]

    /// An option from its parts.
    public init(name: String, values: [Double]) {
      self.name = name
      self.values = values
    }
  }

  /// The algorithm.
  public var kind: Kind
  /// Its positional parameters in the documented order.
  public var parameters: [Double]
  /// Its named parameters, in the order given.
  public var options: [Option]

  /// A spec from its parts.
  public init(kind: Kind, parameters: [Double], options: [Option] = []) {
    self.kind = kind
    self.parameters = parameters
    self.options = options
  }

  /// Decodes a spec; `options` may be missing (specs stored before named parameters).
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    kind = try container.decode(Kind.self, forKey: .kind)
    parameters = try container.decode([Double].self, forKey: .parameters)
    options = try container.decodeIfPresent([Option].self, forKey: .options) ?? []
  }

  /// Parses `kind:p1:p2…:name=value…`.
  /// - Throws: `SegmenterSpecError` for an unknown kind, a parameter that is not a number, a
  ///   positional parameter after a named one, or a name given twice.
  public init(parsing text: String) throws(SegmenterSpecError) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard let name = parts.first, let kind = Kind(rawValue: name.lowercased()) else {
      throw SegmenterSpecError(
        spec: text,
        reason:
          "unknown segmenter; use one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    func number(_ part: Substring) throws(SegmenterSpecError) -> Double {
      guard let value = Double(part), value.isFinite else {
        throw SegmenterSpecError(spec: text, reason: "'\(part)' is not a number")
      }
      return value
    }
    var parameters: [Double] = []
    var options: [Option] = []
    for part in parts.dropFirst() {
      if let equals = part.firstIndex(of: "=") {
        let key = part[..<equals].lowercased()
        guard !key.isEmpty else {
          throw SegmenterSpecError(spec: text, reason: "'\(part)' has no name before '='")
        }
        guard !options.contains(where: { $0.name == key }) else {
          throw SegmenterSpecError(spec: text, reason: "\(key) is given twice")
        }
        var values: [Double] = []
        for item in part[part.index(after: equals)...].split(
          separator: ",", omittingEmptySubsequences: false)
        {
          values.append(try number(item))
        }
        options.append(Option(name: key, values: values))
      } else {
        guard options.isEmpty else {
          throw SegmenterSpecError(
            spec: text, reason: "positional '\(part)' after a named parameter")
        }
        parameters.append(try number(Substring(part)))
      }
    }
    self.init(kind: kind, parameters: parameters, options: options)
  }

  /// `kind:p1:p2…:name=v1,v2…`, integers without a decimal point.
  public var description: String {
    ([kind.rawValue] + parameters.map(Self.format)
      + options.map { "\($0.name)=\($0.values.map(Self.format).joined(separator: ","))" })
      .joined(separator: ":")
  }

  /// A number as specs write it: integers without a decimal point.
  static func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
  }

  /// The seed notebook's six segmenters: SLIC with 25 segments at compactness 0.01, 0.1 and 1
  /// without Lab conversion (`slic:25:0.01:0:10:0`: lime's seed calls `convert2lab=False`),
  /// and grids of 5, 7 and 11 cells a side.
  public static let seedDefaults: [SegmenterSpec] = [
    SegmenterSpec(kind: .slic, parameters: [25, 0.01, 0, 10, 0]),
    SegmenterSpec(kind: .slic, parameters: [25, 0.1, 0, 10, 0]),
    SegmenterSpec(kind: .slic, parameters: [25, 1, 0, 10, 0]),
    SegmenterSpec(kind: .grid, parameters: [5]),
    SegmenterSpec(kind: .grid, parameters: [7]),
    SegmenterSpec(kind: .grid, parameters: [11]),
  ]

  /// The default segmenters for images of `shape`.
  ///
  /// Digits and other images up to 32×32 get the seed's six (`seedDefaults`; for grey images
  /// spelt `slic:25:0.01`, which means the same there), so the seed's explanations are
  /// reproduced. The seed's SLIC settings are tuned to 28×28 digits: on a
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
    guard shape.height > 32 || shape.width > 32 else {
      // On a grey image no Lab is scikit-image's default too, so the seed's own short spelling
      // (`slic:25:0.01`, the text in every existing explanation) means the same segmentation.
      return shape.channels >= 3
        ? seedDefaults
        : seedDefaults.map { spec in
          spec.kind == .slic
            ? SegmenterSpec(kind: .slic, parameters: Array(spec.parameters.prefix(2))) : spec
        }
    }
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

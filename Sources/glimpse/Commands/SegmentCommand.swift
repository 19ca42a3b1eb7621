import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseRender
import GlimpseSegmentation

/// `glimpse segment --image FILE --segmenter SPEC`: see and reuse a segmentation.
struct SegmentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "segment",
    abstract: "Segment an image; write its boundaries as a PNG and the label map as CSV.",
    discussion: """
      A spec is kind:positional...:name=value..., with scikit-image's names
      and defaults (in brackets):
        slic:n_segments:compactness:sigma:max_num_iter:convert2lab
          [100:10:0:10: Lab for three channels, none for grey]
          named: sigma=sy,sx spacing=row,col slic_zero=0|1
          enforce_connectivity=0|1 min_size_factor max_size_factor
          gray2rgb=0|1 (1: grey as lime's three-channel copy)
        felzenszwalb:scale:sigma:min_size [1:0.8:20]; scale 0 allowed;
          gray2rgb=0|1
        quickshift:kernel_size:max_dist:ratio [5:10:1]; sigma,
          convert2lab=0|1, gray2rgb=0|1
        grid:n
      slic:250:10 is scikit-image's slic(image, 250, 10), Lab on a colour
      image; slic:25:0.1:0:10:0 is the seed's SLIC without Lab. --mask gives
      SLIC a region of interest (scikit-image's mask).
      """)

  @Option(help: "The image (PNG or JPEG).")
  var image: String

  @Option(
    help:
      "The segmenter spec, e.g. slic:25:0.1, slic:250:10:slic_zero=1, grid:7, felzenszwalb:100:0.8:20, quickshift:5:10:1:gray2rgb=0."
  )
  var segmenter = "slic:25:0.1"

  @Option(
    help: ArgumentHelp(
      "SLIC's region of interest (scikit-image's mask): an image of the same size, non-zero = inside; the outside is the last label.",
      valueName: "png"))
  var mask: String?

  @Option(help: "The PNG to write (default: output/segment-<image>-<spec>.png); the CSV gets .csv.")
  var out: String?

  @Option(help: "Show the image inverted: auto (for dark grey images), yes, no.")
  var invert: DatasetSummary.Polarity = .auto

  func run() throws {
    let spec = try SegmenterSpec(parsing: segmenter)
    let decoded = try readImageFile(image)
    let region = try mask.map { path in
      let region = RegionMask(image: try readImageFile(path))
      guard region.width == decoded.width && region.height == decoded.height else {
        throw CommandFailure(
          message:
            "\(path): mask is \(region.width)×\(region.height), the image \(decoded.width)×\(decoded.height) (W×H)",
          status: ExitStatus.badInput)
      }
      guard region.insideCount > 0 else {
        throw CommandFailure(
          message: "\(path): mask has no non-zero pixel (nothing inside)",
          status: ExitStatus.badInput)
      }
      return region
    }
    let segmenterValue = try spec.makeSegmenter(mask: region)
    let picture =
      decoded.channels == 2 || decoded.channels == 4
      ? decoded.converted(toChannels: decoded.channels == 2 ? 1 : 3) : decoded
    let started = monotonicSeconds()
    let segments = segmenterValue.segment(picture)
    let elapsed = monotonicSeconds() - started
    let invertImage: Bool
    switch invert {
    case .auto: invertImage = ContactSheet.prefersInverted([picture])
    case .yes: invertImage = true
    case .no: invertImage = false
    }
    let png = try SegmentationFigure(
      image: picture, segments: segments,
      title: "\(fileStem(image)): \(spec) → \(segments.count) segments",
      invert: invertImage
    ).pngData()
    let path =
      out
      ?? "output/segment-\(fileStem(image))-\(String(spec.description.map { $0 == ":" ? "_" : $0 })).png"
    try AtomicFile.write(png, to: path)
    let rows = (0..<segments.height).map { y in (0..<segments.width).map { String(segments[$0, y]) }
    }
    let csv = (path.hasSuffix(".png") ? String(path.dropLast(4)) : path) + ".csv"
    try AtomicFile.write(
      rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n", to: csv)
    print(
      "\(image): \(segments.count) segments in \(formatDuration(elapsed)); wrote \(path) and \(csv) (one row of labels per image row)"
    )
  }
}

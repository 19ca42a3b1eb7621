import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseRender
import GlimpseSegmentation

/// `glimpse segment --image FILE --segmenter SPEC`: see and reuse a segmentation.
struct SegmentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "segment",
    abstract: "Segment an image; write its boundaries as a PNG and the label map as CSV.")

  @Option(help: "The image (PNG or JPEG).")
  var image: String

  @Option(
    help:
      "The segmenter spec, e.g. slic:25:0.1, grid:7, felzenszwalb:100:0.8:20, quickshift:5:10:1.")
  var segmenter = "slic:25:0.1"

  @Option(help: "The PNG to write (default: output/segment-<image>-<spec>.png); the CSV gets .csv.")
  var out: String?

  @Option(help: "Show the image inverted: auto (for dark grey images), yes, no.")
  var invert: DatasetSummary.Polarity = .auto

  func run() throws {
    let spec = try SegmenterSpec(parsing: segmenter)
    let segmenterValue = try spec.makeSegmenter()
    let decoded = try readImageFile(image)
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

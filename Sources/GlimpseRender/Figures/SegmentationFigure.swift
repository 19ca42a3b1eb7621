import GlimpseCore

/// An image with its segment boundaries, enlarged so that small images stay legible.
public struct SegmentationFigure: Sendable {
  /// The image.
  public var image: Image
  /// Its segmentation.
  public var segments: SegmentMap
  /// The heading.
  public var title: String
  /// Show the image as 1 − v.
  public var invert: Bool

  /// A figure from its parts.
  public init(image: Image, segments: SegmentMap, title: String, invert: Bool) {
    self.image = image
    self.segments = segments
    self.title = title
    self.invert = invert
  }

  /// Long side, in pixels, above which an image is averaged down before drawing.
  static let largestSide = 2048

  /// The figure as PNG bytes: the image at an integer zoom (at least 480 px on its long side
  /// for small images), boundaries drawn as lines between pixels of different segments.
  /// Images longer than `largestSide` are averaged down by a whole factor (and the
  /// segmentation sampled alike), so any image size gives a figure of a sane size.
  public func pngData() throws(RenderError) -> [UInt8] {
    let factor = Thumbnails.factor(
      width: image.width, height: image.height, maxWidth: Self.largestSide,
      maxHeight: Self.largestSide)
    guard factor == 1, segments.width == image.width, segments.height == image.height else {
      guard segments.width == image.width, segments.height == image.height else {
        throw RenderError(
          "segmentation is \(segments.height)×\(segments.width) (H×W) but the image is \(image.height)×\(image.width)"
        )
      }
      return try SegmentationFigure(
        image: Thumbnails.reduced(image, factor: factor),
        segments: Thumbnails.reduced(segments, factor: factor),
        title: title, invert: invert
      ).pngData()
    }
    let longSide = max(image.width, image.height)
    let zoom = max(1, 480 / longSide)
    let scale = Double(zoom)
    let margin = 16.0
    let heading = 36.0
    let width = Int(2 * margin + scale * Double(image.width))
    let height = Int(heading + margin + scale * Double(image.height))
    let canvas = try Canvas(width: max(width, 240), height: height)
    canvas.text(
      title, centerX: Double(max(width, 240)) / 2, baseline: 24, size: 14, bold: true,
      maxWidth: Double(max(width, 240)) - 2 * margin)
    try canvas.draw(
      image, invert: invert, x: margin, y: heading, width: scale * Double(image.width),
      height: scale * Double(image.height))
    canvas.drawBoundaries(segments, x: margin, y: heading, scale: scale, color: RGB(1, 0.78, 0))
    return try canvas.pngData()
  }
}

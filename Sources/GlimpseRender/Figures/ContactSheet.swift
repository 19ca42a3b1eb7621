import GlimpseCore

/// A grid of example images, each titled with its label: the first look at a dataset, as the
/// seed notebook's `displayData` (7 × 7 random digits with their labels).
public struct ContactSheet: Sendable {
  /// One picture of the sheet and the caption above it.
  public struct Item: Sendable {
    /// The image.
    public var image: Image
    /// Its caption (a label, or "label · row").
    public var caption: String
    /// Pairs an image with its caption.
    public init(image: Image, caption: String) {
      self.image = image
      self.caption = caption
    }
  }

  /// Pictures per row.
  public var columns = 7
  /// Side of the square box each picture is fitted into, in pixels.
  public var cellSize = 84
  /// The sheet's heading.
  public var title: String
  /// Show images as 1 − v: MNIST-style bright strokes on black become dark ink on white.
  public var invert = false

  /// A sheet with the given heading and defaults otherwise.
  public init(title: String, invert: Bool = false, columns: Int = 7, cellSize: Int = 84) {
    self.title = title
    self.invert = invert
    self.columns = columns
    self.cellSize = cellSize
  }

  static let margin = 16.0, gap = 10.0, captionHeight = 18.0, titleHeight = 34.0

  /// Draws the items row by row and returns the sheet as PNG bytes.
  public func pngData(_ items: [Item]) throws(RenderError) -> [UInt8] {
    precondition(columns > 0 && cellSize > 0, "columns and cellSize must be positive")
    let rows = max(1, (items.count + columns - 1) / columns)
    let cell = Double(cellSize)
    let pitchX = cell + Self.gap
    let pitchY = Self.captionHeight + cell + Self.gap
    let width = Int(2 * Self.margin + Double(columns) * pitchX - Self.gap)
    let height = Int(2 * Self.margin + Self.titleHeight + Double(rows) * pitchY - Self.gap)
    let canvas = try Canvas(width: width, height: height)
    canvas.text(
      title, centerX: Double(width) / 2, baseline: Self.margin + 18, size: 16, bold: true,
      maxWidth: Double(width) - 2 * Self.margin)
    for (index, item) in items.enumerated() {
      let x = Self.margin + Double(index % columns) * pitchX
      let y = Self.margin + Self.titleHeight + Double(index / columns) * pitchY
      canvas.text(
        item.caption, centerX: x + cell / 2, baseline: y + Self.captionHeight - 5, size: 13,
        bold: true, gray: 0.1, maxWidth: cell)
      let top = y + Self.captionHeight
      try canvas.draw(
        displayable(item.image), invert: invert, x: x, y: top, width: cell, height: cell)
      canvas.strokeRectangle(x: x - 0.5, y: top - 0.5, width: cell + 1, height: cell + 1, gray: 0.8)
    }
    return try canvas.pngData()
  }

  /// Whether images look like MNIST (grey, mostly dark): such images read better inverted.
  public static func prefersInverted(_ images: [Image]) -> Bool {
    guard !images.isEmpty, images.allSatisfy({ $0.channels == 1 }) else { return false }
    let mean = images.reduce(0.0) { $0 + $1.pixels.reduce(0, +) / Double($1.pixels.count) }
    return mean / Double(images.count) < 0.35
  }
}

/// Images outside [0, 1] (raw 0–255 tables, embeddings) are stretched to [0, 1] for display.
func displayable(_ image: Image) -> Image {
  guard let low = image.pixels.min(), let high = image.pixels.max(), low < 0 || high > 1 else {
    return image
  }
  let span = high - low
  return Image(shape: image.shape, pixels: image.pixels.map { span > 0 ? ($0 - low) / span : 0 })
}

import CCairo
import GlimpseCore

/// Where text sits relative to its anchor point.
enum TextAlignment { case left, center, right }

/// A drawing context on a white canvas: the few Cairo operations the figures need, each
/// checked. Figures draw on a `Canvas` and return its PNG bytes.
final class Canvas {
  let surface: CairoSurface
  private let context: OpaquePointer

  /// A white canvas of the given size.
  init(width: Int, height: Int) throws(RenderError) {
    surface = try CairoSurface(width: width, height: height)
    guard let context = cairo_create(surface.pointer) else {
      throw RenderError("cairo_create returned NULL")
    }
    if let error = RenderError(cairo_status(context)) {
      cairo_destroy(context)
      throw error
    }
    self.context = context
    cairo_set_source_rgb(context, 1, 1, 1)
    cairo_paint(context)
  }

  deinit { cairo_destroy(context) }

  /// Draws `image` scaled to fit the box (aspect kept, centred). Pixels stay crisp squares
  /// when the image is enlarged (nearest neighbour); shrinking uses Cairo's good filter, after
  /// images of more than twice the box's size are averaged down (`Thumbnails`), so that any
  /// image size fits (Cairo's surfaces stop at 32767 pixels a side).
  func draw(_ original: Image, invert: Bool, x: Double, y: Double, width: Double, height: Double)
    throws(RenderError)
  {
    guard width.isFinite, height.isFinite, width > 0, height > 0 else { return }
    func limit(_ side: Double) -> Int { Int(min(max((2 * side).rounded(.up), 1), 8192)) }
    let image = Thumbnails.reduced(
      original,
      factor: Thumbnails.factor(
        width: original.width, height: original.height, maxWidth: limit(width),
        maxHeight: limit(height)))
    let source = try CairoSurface(image: image, invert: invert)
    let scale = min(width / Double(image.width), height / Double(image.height))
    let drawnWidth = Double(image.width) * scale
    let drawnHeight = Double(image.height) * scale
    cairo_save(context)
    cairo_translate(context, x + (width - drawnWidth) / 2, y + (height - drawnHeight) / 2)
    cairo_scale(context, scale, scale)
    cairo_set_source_surface(context, source.pointer, 0, 0)
    cairo_pattern_set_filter(
      cairo_get_source(context), scale >= 1 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD)
    cairo_rectangle(context, 0, 0, Double(image.width), Double(image.height))
    cairo_fill(context)
    cairo_restore(context)
    try check()
  }

  /// Draws the edges between pixels of different segments as thin lines over a picture drawn
  /// at (x, y) with `scale` display pixels per image pixel.
  func drawBoundaries(_ segments: SegmentMap, x: Double, y: Double, scale: Double, color: RGB) {
    cairo_save(context)
    // Square caps extend each line by half its width: at an image's edge they spilled into the
    // margin (5 px at 120 display pixels per image pixel), so lines stay inside the picture.
    cairo_rectangle(
      context, x, y, Double(segments.width) * scale, Double(segments.height) * scale)
    cairo_clip(context)
    let width = max(1, scale / 6)
    cairo_set_line_cap(context, CAIRO_LINE_CAP_SQUARE)
    for row in 0..<segments.height {
      for column in 0..<segments.width {
        let label = segments[column, row]
        if column + 1 < segments.width && segments[column + 1, row] != label {
          let edge = x + Double(column + 1) * scale
          cairo_move_to(context, edge, y + Double(row) * scale)
          cairo_line_to(context, edge, y + Double(row + 1) * scale)
        }
        if row + 1 < segments.height && segments[column, row + 1] != label {
          let edge = y + Double(row + 1) * scale
          cairo_move_to(context, x + Double(column) * scale, edge)
          cairo_line_to(context, x + Double(column + 1) * scale, edge)
        }
      }
    }
    // A thin dark edge under the coloured line keeps boundaries visible on any background (yellow
    // alone vanishes on orange fur and on white paper).
    cairo_set_source_rgba(context, 0, 0, 0, 0.45)
    cairo_set_line_width(context, width + 1)
    cairo_stroke_preserve(context)
    cairo_set_source_rgb(context, color.red, color.green, color.blue)
    cairo_set_line_width(context, width)
    cairo_stroke(context)
    cairo_restore(context)
  }

  /// A horizontal colour key: `colors` sampled left to right, with labels under both ends and
  /// the middle.
  func colorKey(
    x: Double, y: Double, width: Double, height: Double, color: (Double) -> RGB, labels: [String]
  ) {
    let steps = max(Int(width), 1)
    for step in 0..<steps {
      let t = Double(step) / Double(max(steps - 1, 1))
      fillRectangle(x: x + Double(step), y: y, width: 1.5, height: height, color: color(t))
    }
    strokeRectangle(x: x, y: y, width: width, height: height, gray: 0.5)
    for (index, label) in labels.enumerated() {
      let t = labels.count > 1 ? Double(index) / Double(labels.count - 1) : 0.5
      let align: TextAlignment =
        index == 0 && labels.count > 1
        ? .left : (index == labels.count - 1 && labels.count > 1 ? .right : .center)
      text(
        label, centerX: x + t * width, baseline: y + height + 13, size: 11,
        color: RGB(0.2, 0.2, 0.2), align: align)
    }
  }

  /// Outlines a rectangle.
  func strokeRectangle(
    x: Double, y: Double, width: Double, height: Double, gray: Double, lineWidth: Double = 1
  ) {
    cairo_set_source_rgb(context, gray, gray, gray)
    cairo_set_line_width(context, lineWidth)
    cairo_rectangle(context, x, y, width, height)
    cairo_stroke(context)
  }

  /// Draws a polyline through `points`, optionally dashed (`dash` = on/off lengths).
  func strokePolyline(
    _ points: [(x: Double, y: Double)], color: RGB, lineWidth: Double = 2, dash: [Double] = []
  ) {
    guard let first = points.first else { return }
    cairo_save(context)
    cairo_set_source_rgb(context, color.red, color.green, color.blue)
    cairo_set_line_width(context, lineWidth)
    cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
    dash.withUnsafeBufferPointer { cairo_set_dash(context, $0.baseAddress, Int32($0.count), 0) }
    cairo_move_to(context, first.x, first.y)
    for point in points.dropFirst() { cairo_line_to(context, point.x, point.y) }
    cairo_stroke(context)
    cairo_restore(context)
  }

  /// Fills a circle (a data point marker).
  func fillCircle(x: Double, y: Double, radius: Double, color: RGB) {
    cairo_set_source_rgb(context, color.red, color.green, color.blue)
    cairo_arc(context, x, y, radius, 0, 2 * Double.pi)
    cairo_fill(context)
  }

  /// Fills a rectangle with an RGB colour (components in [0, 1]).
  func fillRectangle(x: Double, y: Double, width: Double, height: Double, color: RGB) {
    cairo_set_source_rgb(context, color.red, color.green, color.blue)
    cairo_rectangle(context, x, y, width, height)
    cairo_fill(context)
  }

  /// Draws one line of text centred on `centerX` with its baseline at `baseline`, shrunk to fit
  /// `maxWidth` when given.
  func text(
    _ string: String, centerX: Double, baseline: Double, size: Double, bold: Bool = false,
    gray: Double = 0, maxWidth: Double? = nil
  ) {
    text(
      string, centerX: centerX, baseline: baseline, size: size, bold: bold,
      color: RGB(gray, gray, gray), maxWidth: maxWidth)
  }

  /// Draws text in a colour, optionally rotated by `angle` radians about its anchor
  /// (−π/2 reads bottom to top, for a vertical axis label).
  func text(
    _ string: String, centerX: Double, baseline: Double, size: Double, bold: Bool = false,
    color: RGB, maxWidth: Double? = nil, angle: Double = 0, align: TextAlignment = .center
  ) {
    cairo_select_font_face(
      context, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
      bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(context, size)
    var extents = cairo_text_extents_t()
    cairo_text_extents(context, string, &extents)
    if let maxWidth, extents.x_advance > maxWidth, extents.x_advance > 0 {
      cairo_set_font_size(context, size * maxWidth / extents.x_advance)
      cairo_text_extents(context, string, &extents)
    }
    cairo_set_source_rgb(context, color.red, color.green, color.blue)
    cairo_save(context)
    cairo_translate(context, centerX, baseline)
    cairo_rotate(context, angle)
    let offset: Double
    switch align {
    case .center: offset = -extents.x_advance / 2
    case .left: offset = 0
    case .right: offset = -extents.x_advance
    }
    cairo_move_to(context, offset, 0)
    cairo_show_text(context, string)
    cairo_restore(context)
  }

  /// The canvas as PNG bytes.
  func pngData() throws(RenderError) -> [UInt8] {
    try check()
    return try surface.pngData()
  }

  private func check() throws(RenderError) {
    if let error = RenderError(cairo_status(context)) { throw error }
  }
}

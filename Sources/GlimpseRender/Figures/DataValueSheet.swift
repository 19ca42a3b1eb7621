import GlimpseCore

/// The training images a valuation ranks lowest and highest, each with its label and value: the
/// data half of an explanation (which examples hurt the model, which carry it).
///
/// Each image sits above a bar whose length is |value| relative to the largest |value| shown,
/// green for helpful (value > 0) and red for harmful, the colours of the LIME overlays. A point
/// known to be mislabelled (an experiment with flipped labels) gets a red frame and "flipped".
public struct DataValueSheet: Sendable {
  /// One training point of the sheet: its image, label, value and whether it is known to be
  /// mislabelled.
  public struct Item: Sendable {
    /// The training image, drawn fitted into a `cellSize` square (values outside [0, 1] are
    /// rescaled to it).
    public var image: Image
    /// Its label as given in the training set, shown above the image ("label 7").
    public var label: String
    /// Its data value, printed with three significant digits under a bar whose length is
    /// |value| relative to the largest finite |value| on the sheet (at most the full cell),
    /// green when ≥ 0, red otherwise.
    public var value: Double
    /// A short note under the value (e.g. "was 7" for a flipped label); `nil` for none.
    public var note: String?
    /// Whether the point is known to be mislabelled (an experiment with flipped labels): a red
    /// frame instead of the grey one.
    public var flagged: Bool

    /// A point with no note and no flag unless given.
    public init(
      image: Image, label: String, value: Double, note: String? = nil, flagged: Bool = false
    ) {
      self.image = image
      self.label = label
      self.value = value
      self.note = note
      self.flagged = flagged
    }
  }

  /// The heading (method and model).
  public var title: String
  /// The line under the heading (how many points of how many are shown).
  public var subtitle: String
  /// The lowest-valued points, drawn first in the order given (lowest first).
  public var lowest: [Item]
  /// The highest-valued points, drawn below the lowest in the order given (highest first).
  public var highest: [Item]
  /// Show images as 1 − v: MNIST-style bright strokes on black become dark ink on white.
  public var invert: Bool
  /// Points per row of each section (below 1, one).
  public var columns: Int
  /// Side of the square each image is fitted into, in pixels.
  public var cellSize = 72

  /// A sheet of 72-pixel cells, 10 to a row unless given.
  public init(
    title: String, subtitle: String, lowest: [Item], highest: [Item], invert: Bool,
    columns: Int = 10
  ) {
    self.title = title
    self.subtitle = subtitle
    self.lowest = lowest
    self.highest = highest
    self.invert = invert
    self.columns = columns
  }

  static let margin = 16.0, gap = 8.0, labelHeight = 16.0, barHeight = 6.0, valueHeight = 28.0
  static let headHeight = 52.0, sectionHeight = 26.0

  /// The sheet as PNG bytes: the heading, then the lowest section above the highest, each at
  /// least one row high (an empty list leaves its row blank).
  /// - Throws: `RenderError` when Cairo fails (a sheet wider or taller than 32767 pixels).
  public func pngData() throws(RenderError) -> [UInt8] {
    let cell = Double(cellSize)
    let pitchX = cell + Self.gap
    let pitchY = Self.labelHeight + cell + Self.barHeight + Self.valueHeight + Self.gap
    // A caller's 0 would divide by zero below; a one-column sheet is what it can mean.
    let columns = max(1, self.columns)
    let rowsLow = max(1, (lowest.count + columns - 1) / columns)
    let rowsHigh = max(1, (highest.count + columns - 1) / columns)
    let width = Int(2 * Self.margin + Double(columns) * pitchX - Self.gap)
    let height = Int(
      2 * Self.margin + Self.headHeight + 2 * Self.sectionHeight + Double(rowsLow + rowsHigh)
        * pitchY)
    let canvas = try Canvas(width: width, height: height)
    canvas.text(
      title, centerX: Double(width) / 2, baseline: Self.margin + 16, size: 16, bold: true,
      maxWidth: Double(width) - 2 * Self.margin)
    canvas.text(
      subtitle, centerX: Double(width) / 2, baseline: Self.margin + 36, size: 12, gray: 0.3,
      maxWidth: Double(width) - 2 * Self.margin)
    let scale = (lowest + highest).map { abs($0.value) }.filter(\.isFinite).max() ?? 1
    var y = Self.margin + Self.headHeight
    for (heading, items, rows) in [
      ("Lowest values: these examples hurt the model most", lowest, rowsLow),
      ("Highest values: these examples help it most", highest, rowsHigh),
    ] {
      canvas.text(
        heading, centerX: Self.margin, baseline: y + 17, size: 13, bold: true,
        color: RGB(0.1, 0.1, 0.1),
        maxWidth: Double(width) - 2 * Self.margin, align: .left)
      y += Self.sectionHeight
      for (index, item) in items.enumerated() {
        let x = Self.margin + Double(index % columns) * pitchX
        let top = y + Double(index / columns) * pitchY
        canvas.text(
          "label \(item.label)", centerX: x + cell / 2, baseline: top + Self.labelHeight - 4,
          size: 12, bold: true, gray: 0.1, maxWidth: cell)
        let imageTop = top + Self.labelHeight
        try canvas.draw(
          displayable(item.image), invert: invert, x: x, y: imageTop, width: cell, height: cell)
        if item.flagged {
          canvas.fillRectangle(
            x: x - 2, y: imageTop - 2, width: cell + 4, height: 2, color: RGB(0.85, 0.1, 0.1))
          canvas.fillRectangle(
            x: x - 2, y: imageTop + cell, width: cell + 4, height: 2, color: RGB(0.85, 0.1, 0.1))
          canvas.fillRectangle(
            x: x - 2, y: imageTop, width: 2, height: cell, color: RGB(0.85, 0.1, 0.1))
          canvas.fillRectangle(
            x: x + cell, y: imageTop, width: 2, height: cell, color: RGB(0.85, 0.1, 0.1))
        } else {
          canvas.strokeRectangle(
            x: x - 0.5, y: imageTop - 0.5, width: cell + 1, height: cell + 1, gray: 0.8)
        }
        let barTop = imageTop + cell + 3
        // NaN has no length: `min(1, NaN)` is 1, which drew a full bar for a missing value.
        let ratio = scale > 0 && !item.value.isNaN ? min(1, abs(item.value) / scale) : 0
        let length = ratio.isFinite ? cell * ratio : 0
        let color = item.value >= 0 ? RGB(0.13, 0.6, 0.2) : RGB(0.85, 0.15, 0.1)
        canvas.fillRectangle(
          x: x, y: barTop, width: cell, height: Self.barHeight - 2, color: RGB(0.93, 0.93, 0.93))
        canvas.fillRectangle(
          x: x, y: barTop, width: length, height: Self.barHeight - 2, color: color)
        canvas.text(
          Self.formatValue(item.value), centerX: x + cell / 2,
          baseline: barTop + Self.barHeight + 11,
          size: 11, color: color, maxWidth: cell)
        if let note = item.note {
          canvas.text(
            note, centerX: x + cell / 2, baseline: barTop + Self.barHeight + 24, size: 10,
            color: item.flagged ? RGB(0.8, 0.1, 0.1) : RGB(0.35, 0.35, 0.35), maxWidth: cell)
        }
      }
      y += Double(rows) * pitchY
    }
    return try canvas.pngData()
  }

  /// Values are small (a share of one accuracy point): three significant digits, signed.
  static func formatValue(_ value: Double) -> String {
    guard value != 0 else { return "0" }
    // Values come from a values file: anything not small and finite prints in Swift's own
    // form (`+1e+300`, `nan`) instead of reaching `Int`.
    guard value.isFinite, abs(value) < 1e12 else {
      return value.isNaN ? "nan" : (value < 0 ? "−" : "+") + String(abs(value))
    }
    var exponent = 0
    var magnitude = abs(value)
    while magnitude < 100 && exponent < 12 {
      magnitude *= 10
      exponent += 1
    }
    let digits = Int(magnitude.rounded())
    var text = String(digits)
    if exponent >= text.count {
      text = "0." + String(repeating: "0", count: exponent - text.count) + text
    } else if exponent > 0 {
      text.insert(".", at: text.index(text.endIndex, offsetBy: -exponent))
    }
    return (value < 0 ? "−" : "+") + text
  }
}

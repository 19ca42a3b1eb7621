import GlimpseCore

/// A point-removal plot (Ghorbani & Zou 2019, Fig. 2): validation score against the fraction of
/// training points removed, one line per removal order.
public struct PointRemovalFigure: Sendable {
  /// One removal order: a line of scores, one per removal fraction.
  public struct Series: Sendable {
    /// The legend entry ("lowest value removed first").
    public var name: String
    /// The validation score after removing each of `fractions`, in the same order; non-finite
    /// scores are left out of the line and the axis.
    public var scores: [Double]
    /// The line and marker colour.
    public var color: RGB
    /// Draw the line dashed (the random baseline).
    public var dashed: Bool

    /// A solid line unless `dashed`.
    public init(name: String, scores: [Double], color: RGB, dashed: Bool = false) {
      self.name = name
      self.scores = scores
      self.color = color
      self.dashed = dashed
    }
  }

  /// The heading.
  public var title: String
  /// The line under the heading (method, model, data).
  public var subtitle: String
  /// The vertical axis's name (the validation score, e.g. "accuracy").
  public var yLabel: String
  /// Fractions of the training set removed, 0 to 1, shown as percentages on the horizontal
  /// axis (which ends at the largest finite fraction).
  public var fractions: [Double]
  /// The lines, drawn in order (later lines over earlier ones) and listed in the legend.
  public var series: [Series]
  /// Width of the picture in pixels (1…32767).
  public var width = 720
  /// Height of the picture in pixels (1…32767); the plot takes all but 174 of them.
  public var height = 460

  /// A 720×460 figure.
  public init(
    title: String, subtitle: String, yLabel: String, fractions: [Double], series: [Series]
  ) {
    self.title = title
    self.subtitle = subtitle
    self.yLabel = yLabel
    self.fractions = fractions
    self.series = series
  }

  /// The three standard orders, in the figure's colours: harmful-first green (it should rise),
  /// valuable-first red (it should fall), random grey.
  public static func standardSeries(lowestFirst: [Double], highestFirst: [Double], random: [Double])
    -> [Series]
  {
    [
      Series(name: "lowest value removed first", scores: lowestFirst, color: RGB(0.13, 0.6, 0.2)),
      Series(
        name: "highest value removed first", scores: highestFirst, color: RGB(0.85, 0.15, 0.1)),
      Series(name: "random removal", scores: random, color: RGB(0.45, 0.45, 0.45), dashed: true),
    ]
  }

  /// The figure as PNG bytes: the axes scaled to the finite scores (padded by 8 % of their
  /// range), grid lines at 1, 2 or 5 times a power of ten, one line with markers per series.
  /// - Throws: `RenderError` when the size is 0 or above 32767 pixels, or Cairo fails.
  public func pngData() throws(RenderError) -> [UInt8] {
    let canvas = try Canvas(width: width, height: height)
    let w = Double(width)
    let h = Double(height)
    canvas.text(title, centerX: w / 2, baseline: 24, size: 16, bold: true, maxWidth: w - 32)
    canvas.text(subtitle, centerX: w / 2, baseline: 44, size: 12, gray: 0.3, maxWidth: w - 32)
    let left = 70.0
    let right = w - 24
    let top = 64.0
    let bottom = h - 110
    // Scores that are not finite are left out of the axes and the lines (Cairo's paths turn
    // invalid on a NaN coordinate).
    let all = series.flatMap(\.scores).filter(\.isFinite)
    var low = (all.min() ?? 0)
    var high = (all.max() ?? 1)
    let pad = max((high - low) * 0.08, 0.005)
    low -= pad
    high += pad
    let maxFraction = max(fractions.filter(\.isFinite).max() ?? 1, 1e-9)
    func px(_ f: Double) -> Double { left + (right - left) * f / maxFraction }
    func py(_ v: Double) -> Double { bottom - (bottom - top) * (v - low) / (high - low) }
    // Grid and ticks.
    let step = Self.niceStep((high - low) / 5)
    var tick = (low / step).rounded(.up) * step
    // At most a dozen ticks, however the scores are spread.
    var ticks = 0
    while tick <= high && ticks < 12 {
      ticks += 1
      canvas.fillRectangle(
        x: left, y: py(tick), width: right - left, height: 1, color: RGB(0.92, 0.92, 0.92))
      canvas.text(
        Self.format(tick, step: step), centerX: left - 8, baseline: py(tick) + 4, size: 11,
        color: RGB(0.2, 0.2, 0.2), align: .right)
      tick += step
    }
    for f in fractions where f.isFinite {
      canvas.text(
        "\(Int((min(max(f, -1e9), 1e9) * 100).rounded()))%", centerX: px(f), baseline: bottom + 16,
        size: 11, color: RGB(0.2, 0.2, 0.2))
    }
    canvas.strokeRectangle(x: left, y: top, width: right - left, height: bottom - top, gray: 0.5)
    canvas.text(
      "training points removed", centerX: (left + right) / 2, baseline: bottom + 34, size: 12,
      color: RGB(0.1, 0.1, 0.1))
    canvas.text(
      yLabel, centerX: 18, baseline: (top + bottom) / 2, size: 12, color: RGB(0.1, 0.1, 0.1),
      angle: -Double.pi / 2)
    for line in series {
      let points = zip(fractions, line.scores).filter { $0.isFinite && $1.isFinite }.map {
        (x: px($0), y: py($1))
      }
      canvas.strokePolyline(
        points, color: line.color, lineWidth: 2.2, dash: line.dashed ? [6, 4] : [])
      for point in points {
        canvas.fillCircle(x: point.x, y: point.y, radius: 3, color: line.color)
      }
    }
    // Legend below the plot.
    var x = left
    for line in series {
      let y = bottom + 62
      canvas.strokePolyline(
        [(x, y - 4), (x + 28, y - 4)], color: line.color, lineWidth: 2.2,
        dash: line.dashed ? [6, 4] : [])
      canvas.text(
        line.name, centerX: x + 34, baseline: y, size: 12, color: RGB(0.1, 0.1, 0.1), align: .left)
      x += 34 + Double(line.name.count) * 7 + 24
    }
    return try canvas.pngData()
  }

  static func niceStep(_ raw: Double) -> Double {
    guard raw > 0, raw.isFinite else { return 1 }
    var base = 1.0
    while base * 10 <= raw { base *= 10 }
    while base > raw { base /= 10 }
    for multiple in [1.0, 2, 5, 10] where base * multiple >= raw { return base * multiple }
    return base * 10
  }

  static func format(_ value: Double, step: Double) -> String {
    var digits = 0
    var s = step
    while s < 1 && digits < 6 {
      s *= 10
      digits += 1
    }
    let scaled = (value * pow10(digits)).rounded()
    guard scaled.isFinite, abs(scaled) < 1e15 else { return String(value) }
    var text = String(Int(abs(scaled)))
    if digits > 0 {
      while text.count <= digits { text = "0" + text }
      text.insert(".", at: text.index(text.endIndex, offsetBy: -digits))
    }
    return (scaled < 0 ? "-" : "") + text
  }

  static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { a, _ in a * 10 } }
}

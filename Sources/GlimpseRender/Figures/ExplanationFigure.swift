import GlimpseCore

/// The picture of one prediction explained by several segmentations: for the model's first and
/// second class, which regions support it (green) and which speak against it (red), per
/// segmenter and combined, plus a contrast panel that answers "why the first and not the second".
///
/// Columns layout (`glimpse explain`): the first column holds the image and the combined maps,
/// each further column one segmenter; rows are boundaries, first class, second class, contrast.
/// Rows layout (`glimpse compare-segmenters`): the same panels transposed, one row per
/// segmenter and the combined row last. Per-segmenter weights are in probability units, shown
/// at full colour from ±`weightScale` on (the same scale for every image, so figures compare);
/// combined maps are normalised to [−1, 1] as the seed combines them.
public struct ExplanationFigure: Sendable {
  /// One segmenter's explanation, as per-pixel weights.
  public struct Column: Sendable {
    /// The segmenter's spec, e.g. `slic:25:0.1`.
    public var name: String
    /// Its segmentation.
    public var segments: SegmentMap
    /// Per-pixel weights for the first class.
    public var firstWeights: [Double]
    /// Per-pixel weights for the second class.
    public var secondWeights: [Double]
    /// The surrogate's R² for the first and the second class.
    public var scores: (first: Double, second: Double)
    /// The first class's deletion and insertion AUCs (RISE), shown under the segmenter's name.
    public var faithfulness: (deletion: Double, insertion: Double)?

    /// A column from its parts.
    public init(
      name: String, segments: SegmentMap, firstWeights: [Double], secondWeights: [Double],
      scores: (Double, Double), faithfulness: (deletion: Double, insertion: Double)? = nil
    ) {
      self.faithfulness = faithfulness
      self.name = name
      self.segments = segments
      self.firstWeights = firstWeights
      self.secondWeights = secondWeights
      self.scores = (scores.0, scores.1)
    }
  }

  /// Panel arrangement.
  public enum Layout: Sendable { case columns, rows }

  /// The explained image as the model sees it.
  public var image: Image
  /// What the image is (source, truth), shown above it.
  public var caption: String
  /// The heading.
  public var title: String
  /// Names of the first and second class.
  public var classNames: (first: String, second: String)
  /// The model's probabilities for them.
  public var probabilities: (first: Double, second: Double)
  /// One column per segmenter.
  public var columns: [Column]
  /// The combined maps for the first and second class, in [−1, 1].
  public var combined: (first: [Double], second: [Double])
  /// Mean rank correlation between the segmenters' maps, when there are several.
  public var agreement: Double?
  /// Show images as 1 − v (MNIST-style bright strokes on black become ink on white).
  public var invert = false
  /// |weight| shown at full colour in per-segmenter panels.
  public var weightScale = 0.2
  /// What the per-segmenter weights are, for the footer (`LIME weight`).
  public var weightName = "LIME weight"
  /// Below this fraction of `weightScale` in every segmenter's map, a combined panel is faded
  /// (see `evidenceStrength`).
  public var weakEvidence = 0.1
  /// Side of one panel in pixels (`panelSize(forImageWidth:height:)` fits it to the image).
  public var panelSize = 120

  /// A panel side that shows an image of this size readably: 120 px for digit-sized images
  /// (enlarged with nearest-neighbour sampling), the image's own longer side up to 224 px for
  /// larger ones, so a 224×224 X-ray is drawn at full size rather than halved.
  public static func panelSize(forImageWidth width: Int, height: Int) -> Int {
    min(224, max(120, max(width, height)))
  }
  /// Panel arrangement.
  public var layout = Layout.columns

  /// A training image shown beside the explanation: the data side of "why".
  public struct Neighbor: Sendable {
    /// The training image.
    public var image: Image
    /// Its label as given in the training set.
    public var label: String
    /// Its data value, when a valuation is given.
    public var value: Double?
    /// A neighbour with its label and, when a valuation is given, its value.
    public init(image: Image, label: String, value: Double?) {
      self.image = image
      self.label = label
      self.value = value
    }
  }

  /// The explained image's nearest training images, drawn in a band under the panels.
  public var neighbors: [Neighbor] = []
  /// The band's heading.
  public var neighborsTitle = "Nearest training images: label and data value"

  /// A figure from its parts (see the properties).
  public init(
    image: Image, caption: String, title: String, classNames: (String, String),
    probabilities: (Double, Double), columns: [Column], combined: ([Double], [Double]),
    agreement: Double?
  ) {
    self.image = image
    self.caption = caption
    self.title = title
    self.classNames = (classNames.0, classNames.1)
    self.probabilities = (probabilities.0, probabilities.1)
    self.columns = columns
    self.combined = (combined.0, combined.1)
    self.agreement = agreement
  }

  enum Panel {
    case picture(Image, invert: Bool)
    /// The image with segment boundaries, and a line of text in a band along its bottom edge.
    case boundaries(SegmentMap, inset: String?)
    case empty
  }

  /// The share of full colour for a combined panel: 1 unless every segmenter's own weights stay
  /// below `weakEvidence` × `weightScale`, then in proportion to the largest of them.
  ///
  /// The seed's combination divides each map by its largest |weight|, so a confident prediction
  /// that no perturbation moves (weights of 0.001 in probability) would reach full colour, while
  /// its per-segmenter panels, on the fixed scale, are blank. Fading keeps the combined panel as
  /// weak as the evidence behind it; the title then says "(weak)".
  func evidenceStrength(_ maps: [[Double]]) -> Double {
    let largest = maps.reduce(0.0) { maps, map in map.reduce(maps) { max($0, abs($1)) } }
    return max(min(1, largest / (weakEvidence * weightScale)), 1e-6)
  }

  /// `62% 4`: a probability and a class, the seed's panel title. Below 1 % one decimal
  /// (`0.3% 321`), and `<0.1%` below that, so a model spread over 1000 classes does not read
  /// `0% 321 or 0% 181`. Total: a probability that is not a number (a model file with NaN
  /// weights) prints as `?%`, not a trap.
  public static func percent(_ p: Double, _ name: String) -> String {
    let scaled = (p * 100).rounded()
    guard scaled.isFinite, abs(scaled) < 1e15 else { return "?% \(name)" }
    if p > 0 && p < 0.0005 { return "<0.1% \(name)" }
    if p > 0 && p < 0.0095 { return "\(formatFixed(p * 100, digits: 1))% \(name)" }
    return "\(Int(scaled))% \(name)"
  }

  /// The figure with its image, maps and segmentations averaged down by `factor` (see
  /// `Thumbnails`): what the panels show of a large image anyway, at a bounded cost.
  func reduced(by factor: Int) -> ExplanationFigure {
    let (width, height) = (image.width, image.height)
    var copy = self
    copy.image = Thumbnails.reduced(image, factor: factor)
    copy.columns = columns.map { column in
      var column = column
      column.segments = Thumbnails.reduced(column.segments, factor: factor)
      column.firstWeights = Thumbnails.reduced(
        column.firstWeights, width: width, height: height, factor: factor)
      column.secondWeights = Thumbnails.reduced(
        column.secondWeights, width: width, height: height, factor: factor)
      return column
    }
    copy.combined = (
      Thumbnails.reduced(combined.first, width: width, height: height, factor: factor),
      Thumbnails.reduced(combined.second, width: width, height: height, factor: factor)
    )
    return copy
  }

  /// Whether every map and segmentation has one value per pixel of the image.
  var mapsMatchImage: Bool {
    let pixels = image.width * image.height
    return combined.first.count == pixels && combined.second.count == pixels
      && columns.allSatisfy {
        $0.firstWeights.count == pixels && $0.secondWeights.count == pixels
          && $0.segments.width == image.width && $0.segments.height == image.height
      }
  }

  /// The figure as PNG bytes. Any image size works: an image more than twice the panel size
  /// is averaged down first (`reduced(by:)`).
  public func pngData() throws(RenderError) -> [UInt8] {
    guard mapsMatchImage else {
      throw RenderError(
        "the maps of an explanation do not match its \(image.height)×\(image.width) (H×W) image")
    }
    let factor = Thumbnails.factor(
      width: image.width, height: image.height, maxWidth: 2 * panelSize, maxHeight: 2 * panelSize)
    if factor > 1 { return try reduced(by: factor).drawn() }
    return try drawn()
  }

  /// Draws the figure (its maps at most twice the panel size).
  private func drawn() throws(RenderError) -> [UInt8] {
    let invertImages = invert
    let (first, second) = classNames
    // Grid in the columns layout: grid[row][column].
    var grid: [[(title: String, panel: Panel)]] = [[], [], [], []]
    let contrastCombined = zip(combined.first, combined.second).map { $0 - $1 }
    let contrastScale = contrastCombined.reduce(0) { max($0, abs($1)) }
    let strength = (
      first: evidenceStrength(columns.map(\.firstWeights)),
      second: evidenceStrength(columns.map(\.secondWeights)),
      contrast: evidenceStrength(
        columns.map { zip($0.firstWeights, $0.secondWeights).map { $0 - $1 } })
    )
    let weak = " (weak)"
    grid[0].append((caption, .picture(image, invert: invertImages)))
    grid[1].append(
      (
        "combined: " + Self.percent(probabilities.first, first) + (strength.first < 1 ? weak : ""),
        .picture(
          Overlays.hsv(
            image, weights: combined.first, scale: 1 / strength.first, invert: invertImages),
          invert: false)
      ))
    grid[2].append(
      (
        "combined: " + Self.percent(probabilities.second, second)
          + (strength.second < 1 ? weak : ""),
        .picture(
          Overlays.hsv(
            image, weights: combined.second, scale: 1 / strength.second, invert: invertImages),
          invert: false)
      ))
    grid[3].append(
      (
        strength.contrast < 1
          ? "combined: \(first) − \(second)" + weak : "combined: \(first) rather than \(second)",
        .picture(
          Overlays.hsv(
            image, weights: contrastCombined, scale: max(contrastScale, 1e-12) / strength.contrast,
            invert: invertImages), invert: false)
      ))
    for column in columns {
      grid[0].append(
        (
          "\(column.name) (\(column.segments.count))",
          .boundaries(
            column.segments,
            inset: column.faithfulness.map {
              "del \(Self.fixed($0.deletion)) · ins \(Self.fixed($0.insertion))"
            })
        ))
      grid[1].append(
        (
          "\(first) · R² \(Self.fixed(column.scores.first))",
          .picture(
            Overlays.hsv(
              image, weights: column.firstWeights, scale: weightScale, invert: invertImages),
            invert: false)
        ))
      grid[2].append(
        (
          "\(second) · R² \(Self.fixed(column.scores.second))",
          .picture(
            Overlays.hsv(
              image, weights: column.secondWeights, scale: weightScale, invert: invertImages),
            invert: false)
        ))
      let contrast = zip(column.firstWeights, column.secondWeights).map { $0 - $1 }
      grid[3].append(
        (
          "\(first) − \(second)",
          .picture(
            Overlays.hsv(image, weights: contrast, scale: weightScale, invert: invertImages),
            invert: false)
        ))
    }
    if layout == .rows {
      // One row per segmenter (boundaries, first, second, contrast), the combined row last.
      var transposed: [[(title: String, panel: Panel)]] = []
      for c in 1..<grid[0].count { transposed.append(grid.map { $0[c] }) }
      transposed.append(grid.map { $0[0] })
      grid = transposed
    }
    let rows = grid.count
    let cols = grid.map(\.count).max() ?? 1
    let size = Double(panelSize)
    let gap = 12.0
    let titleBand = 18.0
    let margin = 16.0
    let heading = 58.0
    let width = Int(2 * margin + Double(cols) * (size + gap) - gap)
    let neighborSize = (size * 0.72).rounded()
    let neighborPitch = neighborSize + gap
    let perRow = max(1, Int((Double(width) - 2 * margin + gap) / neighborPitch))
    let neighborRows = neighbors.isEmpty ? 0 : (neighbors.count + perRow - 1) / perRow
    let neighborBand = neighbors.isEmpty ? 0 : 30 + Double(neighborRows) * (16 + neighborSize + 34)
    let panelsBottom = heading + Double(rows) * (titleBand + size + gap)
    // The footer note, one line per part, so the text keeps its size on narrow figures (the rows
    // layout) instead of shrinking to fit one line.
    var noteLines = [
      "per segmenter: \(weightName) in probability",
      "combined: normalised to ±1, faded if every |weight| < \(Self.fixed(weakEvidence * weightScale))",
    ]
    if columns.contains(where: { $0.faithfulness != nil }) {
      noteLines.append(
        "del/ins: deletion/insertion AUC of \(first) by decreasing weight (lower/higher is better)")
    }
    if let agreement {
      noteLines.append("segmenter agreement (mean Spearman ρ): \(Self.fixed(agreement))")
    }
    let footer = 50.0 + 14.0 * Double(noteLines.count)
    let height = Int(panelsBottom + neighborBand + footer)
    let canvas = try Canvas(width: width, height: height)
    canvas.text(
      title, centerX: Double(width) / 2, baseline: 24, size: 15, bold: true,
      maxWidth: Double(width) - 2 * margin)
    canvas.text(
      "green: the region supports the class · red: it speaks against it",
      centerX: Double(width) / 2,
      baseline: 44, size: 12, gray: 0.3, maxWidth: Double(width) - 2 * margin)
    for (r, row) in grid.enumerated() {
      for (c, cell) in row.enumerated() {
        let x = margin + Double(c) * (size + gap)
        let y = heading + Double(r) * (titleBand + size + gap)
        // Within the panel's own width: two long titles side by side keep the gap between
        // them (at size + gap they ran together, "…(15)quickshift…").
        canvas.text(
          cell.title, centerX: x + size / 2, baseline: y + 13, size: 11.5, bold: false, gray: 0.1,
          maxWidth: size)
        let top = y + titleBand
        switch cell.panel {
        case let .picture(picture, invert):
          try canvas.draw(picture, invert: invert, x: x, y: top, width: size, height: size)
        case let .boundaries(segments, inset):
          try canvas.draw(image, invert: invertImages, x: x, y: top, width: size, height: size)
          let scale = min(size / Double(image.width), size / Double(image.height))
          canvas.drawBoundaries(
            segments, x: x + (size - scale * Double(image.width)) / 2,
            y: top + (size - scale * Double(image.height)) / 2, scale: scale, color: RGB(1, 0.78, 0)
          )
          if let inset {
            // The faithfulness AUCs: a white band over the panel's bottom edge keeps the titles
            // as they were.
            let band = 15.0
            canvas.fillRectangle(
              x: x, y: top + size - band, width: size, height: band, color: RGB(1, 1, 1))
            canvas.text(
              inset, centerX: x + size / 2, baseline: top + size - 4, size: 10.5, gray: 0.1,
              maxWidth: size - 4)
          }
        case .empty:
          break
        }
        canvas.strokeRectangle(
          x: x - 0.5, y: top - 0.5, width: size + 1, height: size + 1, gray: 0.8)
      }
    }
    if !neighbors.isEmpty {
      try drawNeighbors(
        on: canvas, top: panelsBottom + 4, left: margin, size: neighborSize, gap: gap,
        perRow: perRow)
    }
    // Footer: colour key and agreement.
    let keyWidth = min(260.0, Double(width) - 2 * margin)
    let keyY = Double(height) - footer + 10
    canvas.weightColorKey(
      x: margin, y: keyY, width: keyWidth,
      labels: ["against −\(Self.fixed(weightScale))", "0", "supports +\(Self.fixed(weightScale))"])
    for (line, text) in noteLines.enumerated() {
      canvas.text(
        text, centerX: Double(width) / 2, baseline: keyY + 42 + 14 * Double(line), size: 11,
        gray: 0.25,
        maxWidth: Double(width) - 2 * margin)
    }
    return try canvas.pngData()
  }

  /// The neighbour band: heading, then images with label, a value bar and the value (green helps,
  /// red hurts, as in the data sheet).
  private func drawNeighbors(
    on canvas: Canvas, top: Double, left: Double, size: Double, gap: Double, perRow: Int
  )
    throws(RenderError)
  {
    canvas.text(
      neighborsTitle, centerX: left, baseline: top + 16, size: 12.5, bold: true,
      color: RGB(0.1, 0.1, 0.1), align: .left)
    let scale = neighbors.compactMap { $0.value.map(abs) }.max() ?? 0
    for (index, neighbor) in neighbors.enumerated() {
      let x = left + Double(index % perRow) * (size + gap)
      let y = top + 26 + Double(index / perRow) * (16 + size + 34)
      canvas.text(
        "label \(neighbor.label)", centerX: x + size / 2, baseline: y + 12, size: 11, bold: true,
        gray: 0.1, maxWidth: size)
      try canvas.draw(
        displayable(neighbor.image), invert: invert, x: x, y: y + 16, width: size, height: size)
      canvas.strokeRectangle(x: x - 0.5, y: y + 15.5, width: size + 1, height: size + 1, gray: 0.8)
      guard let value = neighbor.value else { continue }
      let color = value >= 0 ? RGB(0.13, 0.6, 0.2) : RGB(0.85, 0.15, 0.1)
      let barTop = y + 16 + size + 3
      canvas.fillRectangle(x: x, y: barTop, width: size, height: 4, color: RGB(0.93, 0.93, 0.93))
      canvas.fillRectangle(
        x: x, y: barTop, width: scale > 0 ? size * abs(value) / scale : 0, height: 4, color: color)
      canvas.text(
        DataValueSheet.formatValue(value), centerX: x + size / 2, baseline: barTop + 17, size: 10.5,
        color: color, maxWidth: size)
    }
  }

  static func fixed(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
      let decimals = text.distance(from: dot, to: text.endIndex) - 1
      if decimals < 2 { text += String(repeating: "0", count: 2 - decimals) }
    }
    return text
  }
}

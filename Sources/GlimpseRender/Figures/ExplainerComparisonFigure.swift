import GlimpseCore

/// One image explained by several methods side by side (`glimpse compare-explainers`): the
/// image, then one panel per method with its map for the explained class and its pixel deletion
/// and insertion AUCs, the best of each marked.
///
/// Panels use `ExplanationFigure`'s overlay and colour key (green supports the class, red speaks
/// against it). Every map is normalised by its largest |value| and shown on the same ±1 scale,
/// as the explanation figure's combined panels are: methods measure in different units
/// (probability, Shapley value, logit gradient), and the ranking depends only on the order of
/// the pixels.
public struct ExplainerComparisonFigure: Sendable {
  /// One method's panel.
  public struct Panel: Sendable {
    /// The method's name, the panel's title.
    public var name: String
    /// One weight per pixel, or `nil` when the method failed (the panel then says why).
    public var weights: [Double]?
    /// The pixel deletion and insertion AUCs, when measured.
    public var faithfulness: (deletion: Double, insertion: Double)?
    /// Why the method gave no map.
    public var failure: String?

    /// A panel from its parts.
    public init(
      name: String, weights: [Double]?, faithfulness: (deletion: Double, insertion: Double)?,
      failure: String? = nil
    ) {
      self.name = name
      self.weights = weights
      self.faithfulness = faithfulness
      self.failure = failure
    }
  }

  /// The explained image as the model sees it.
  public var image: Image
  /// What the image is, shown above it.
  public var caption: String
  /// The heading.
  public var title: String
  /// The explained class's name.
  public var className: String
  /// One panel per method.
  public var panels: [Panel]
  /// How removed pixels were filled, for the footer (`0`, `the image's mean`).
  public var fillText = "0"
  /// Steps per curve, for the footer.
  public var steps = 32
  /// Show images as 1 − v.
  public var invert = false
  /// Side of one panel in pixels.
  public var panelSize = 120

  /// A figure from its parts (see the properties).
  public init(image: Image, caption: String, title: String, className: String, panels: [Panel]) {
    self.image = image
    self.caption = caption
    self.title = title
    self.className = className
    self.panels = panels
  }

  /// Index of the panel with the lowest deletion AUC and of the one with the highest
  /// insertion AUC (first on ties), when at least two panels have them (one is no contest).
  public var best: (deletion: Int?, insertion: Int?) {
    let measured = panels.indices.filter { panels[$0].faithfulness != nil }
    guard measured.count >= 2 else { return (nil, nil) }
    let deletion = measured.min {
      (panels[$0].faithfulness?.deletion ?? 0, $0) < (panels[$1].faithfulness?.deletion ?? 0, $1)
    }
    let insertion = measured.min {
      (-(panels[$0].faithfulness?.insertion ?? 0), $0)
        < (-(panels[$1].faithfulness?.insertion ?? 0), $1)
    }
    return (deletion, insertion)
  }

  /// The figure as PNG bytes; an image more than twice the panel size is averaged down first.
  public func pngData() throws(RenderError) -> [UInt8] {
    let pixels = image.width * image.height
    guard panels.allSatisfy({ ($0.weights?.count ?? pixels) == pixels }) else {
      throw RenderError(
        "the maps of a comparison do not match its \(image.height)×\(image.width) (H×W) image")
    }
    let factor = Thumbnails.factor(
      width: image.width, height: image.height, maxWidth: 2 * panelSize, maxHeight: 2 * panelSize)
    guard factor > 1 else { return try drawn() }
    var copy = self
    copy.image = Thumbnails.reduced(image, factor: factor)
    copy.panels = panels.map { panel in
      var panel = panel
      panel.weights = panel.weights.map {
        Thumbnails.reduced($0, width: image.width, height: image.height, factor: factor)
      }
      return panel
    }
    return try copy.drawn()
  }

  private func drawn() throws(RenderError) -> [UInt8] {
    let size = Double(panelSize)
    let gap = 12.0
    let margin = 16.0
    let heading = 58.0
    let titleBand = 18.0
    let band = 15.0
    let columns = panels.count + 1
    // At least wide enough for the footer's lines at their size.
    let width = Int(max(2 * margin + Double(columns) * (size + gap) - gap, 560))
    let left = (Double(width) - (Double(columns) * (size + gap) - gap)) / 2
    let (bestDeletion, bestInsertion) = best
    let noteLines = [
      "each map normalised by its largest |value| (the same ±1 scale for every method)",
      "del/ins: AUC of p(\(className)) as pixels are removed from the image / added to the filled image",
      "by decreasing weight, \(steps) steps, removed pixels = \(fillText) (lower/higher is better"
        + (bestDeletion == nil ? ")" : "; ★ best)"),
    ]
    let footer = 50.0 + 14.0 * Double(noteLines.count)
    let panelsBottom = heading + titleBand + size + gap
    let canvas = try Canvas(width: width, height: Int(panelsBottom + footer))
    canvas.text(
      title, centerX: Double(width) / 2, baseline: 24, size: 15, bold: true,
      maxWidth: Double(width) - 2 * margin)
    canvas.text(
      "green: the region supports \(className) · red: it speaks against it",
      centerX: Double(width) / 2, baseline: 44, size: 12, gray: 0.3,
      maxWidth: Double(width) - 2 * margin)
    let top = heading + titleBand
    canvas.text(
      caption, centerX: left + size / 2, baseline: heading + 13, size: 11.5, gray: 0.1,
      maxWidth: size)
    try canvas.draw(image, invert: invert, x: left, y: top, width: size, height: size)
    canvas.strokeRectangle(
      x: left - 0.5, y: top - 0.5, width: size + 1, height: size + 1, gray: 0.8)
    for (index, panel) in panels.enumerated() {
      let x = left + Double(index + 1) * (size + gap)
      canvas.text(
        panel.name, centerX: x + size / 2, baseline: heading + 13, size: 11.5,
        bold: index == bestDeletion || index == bestInsertion, gray: 0.1,
        maxWidth: size)
      if let weights = panel.weights {
        let scale = weights.reduce(0) { max($0, abs($1)) }
        try canvas.draw(
          Overlays.hsv(image, weights: weights, scale: scale > 0 ? scale : 1, invert: invert),
          invert: false, x: x, y: top, width: size, height: size)
      } else {
        canvas.fillRectangle(x: x, y: top, width: size, height: size, color: RGB(0.95, 0.95, 0.95))
        canvas.text(
          "failed: " + (panel.failure ?? "no map"), centerX: x + size / 2, baseline: top + size / 2,
          size: 10.5, gray: 0.3, maxWidth: size - 4)
      }
      if let f = panel.faithfulness {
        let text =
          "del \(ExplanationFigure.fixed(f.deletion))\(index == bestDeletion ? "★" : "")"
          + " · ins \(ExplanationFigure.fixed(f.insertion))\(index == bestInsertion ? "★" : "")"
        canvas.fillRectangle(
          x: x, y: top + size - band, width: size, height: band, color: RGB(1, 1, 1))
        canvas.text(
          text, centerX: x + size / 2, baseline: top + size - 4, size: 10.5, gray: 0.1,
          maxWidth: size - 4)
      }
      canvas.strokeRectangle(x: x - 0.5, y: top - 0.5, width: size + 1, height: size + 1, gray: 0.8)
    }
    let keyWidth = min(260.0, Double(width) - 2 * margin)
    let keyY = panelsBottom + 10
    canvas.weightColorKey(
      x: margin, y: keyY, width: keyWidth, labels: ["against −1", "0", "supports +1"])
    for (line, text) in noteLines.enumerated() {
      canvas.text(
        text, centerX: Double(width) / 2, baseline: keyY + 42 + 14 * Double(line), size: 11,
        gray: 0.25, maxWidth: Double(width) - 2 * margin)
    }
    return try canvas.pngData()
  }
}

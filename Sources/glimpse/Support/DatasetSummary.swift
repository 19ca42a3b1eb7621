import GlimpseCore
import GlimpseRender

/// The text `glimpse info` prints about a dataset.
enum DatasetSummary {
  static func lines(_ dataset: Dataset, name: String) -> [String] {
    var lines = ["\(name)"]
    lines.append("  rows:     \(dataset.count)")
    if let shape = dataset.imageShape {
      lines.append("  features: \(dataset.featureCount) (images \(describeSize(shape)))")
    } else {
      lines.append("  features: \(dataset.featureCount) (a plain table, no image shape)")
    }
    if let range = dataset.valueRange {
      lines.append(
        "  values:   \(formatFixed(range.lowerBound, digits: 4)) … \(formatFixed(range.upperBound, digits: 4))"
      )
    }
    lines.append("  classes:  \(dataset.classNames.count)")
    let width = dataset.classNames.map(\.count).max() ?? 0
    for (name, count) in zip(dataset.classNames, dataset.classCounts) {
      let padded = name + String(repeating: " ", count: max(0, width - name.count))
      lines.append("    \(padded)  \(count)")
    }
    return lines
  }

  /// `28×28 (H×W), 1 channel`: the size says which side is which, as `--size HxW` and
  /// `--shape HxWxC` take them.
  static func describeSize(_ shape: ImageShape) -> String {
    "\(shape.height)×\(shape.width) (H×W), \(shape.channels) channel\(shape.channels == 1 ? "" : "s")"
  }

  /// How `--invert` is decided.
  enum Polarity: String, CaseIterable {
    case auto, yes, no
  }

  /// A 7 × 7 contact sheet of random rows (seeded), each titled with its class; `file` names
  /// the data in a rendering failure.
  static func contactSheet(
    _ dataset: Dataset, title: String, seed: UInt64, polarity: Polarity, file: String? = nil
  ) throws -> [UInt8]? {
    guard dataset.imageShape != nil else { return nil }
    var generator = SeededGenerator(seed: seed)
    let picks = Array((0..<dataset.count).shuffled(using: &generator).prefix(49))
    let items = picks.compactMap { row in
      dataset.image(at: row).map {
        ContactSheet.Item(image: $0, caption: dataset.classNames[dataset.labels[row]])
      }
    }
    let invert: Bool
    switch polarity {
    case .auto: invert = ContactSheet.prefersInverted(items.map(\.image))
    case .yes: invert = true
    case .no: invert = false
    }
    return try drawing(for: file ?? title) { () throws(RenderError) in
      try ContactSheet(title: title, invert: invert).pngData(items)
    }
  }
}

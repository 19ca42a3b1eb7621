/// A labelled table of feature rows: what every model, explainer and valuation method consumes.
///
/// Row `i` has features `features.row(i)`, class `classNames[labels[i]]`, and came from
/// `sources[i]` (a file path, or `table.csv:12` for line 12 of a table), so every later report
/// can say where a sample came from. When the rows are images, `imageShape` says how to fold a
/// row back into an `Image`.
public struct Dataset: Sendable {
  /// `[count, featureCount]`.
  public var features: Matrix
  /// Class index of each row, into `classNames`.
  public var labels: [Int]
  /// Class names in class-index order (sorted when read from files).
  public var classNames: [String]
  /// How a row folds into an image, when the rows are images.
  public var imageShape: ImageShape?
  /// Where each row came from.
  public var sources: [String]

  /// Creates a dataset; the parts must agree (a broken invariant is a programming error).
  public init(
    features: Matrix, labels: [Int], classNames: [String], imageShape: ImageShape? = nil,
    sources: [String]
  ) {
    precondition(
      labels.count == features.rows,
      "labels.count (\(labels.count)) != features.rows (\(features.rows))")
    precondition(
      sources.count == features.rows,
      "sources.count (\(sources.count)) != features.rows (\(features.rows))")
    precondition(
      labels.allSatisfy { $0 >= 0 && $0 < classNames.count },
      "labels must lie in 0..<\(classNames.count)")
    if let imageShape {
      precondition(
        imageShape.valueCount == features.columns,
        "image shape \(imageShape) holds \(imageShape.valueCount) values, rows have \(features.columns)"
      )
    }
    self.features = features
    self.labels = labels
    self.classNames = classNames
    self.imageShape = imageShape
    self.sources = sources
  }

  /// Number of rows.
  public var count: Int { features.rows }

  /// Number of features per row.
  public var featureCount: Int { features.columns }

  /// Rows per class, in class-index order.
  public var classCounts: [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for label in labels { counts[label] += 1 }
    return counts
  }

  /// Row `index` as an image, or `nil` when the dataset has no image shape.
  public func image(at index: Int) -> Image? {
    guard let imageShape else { return nil }
    return Image(shape: imageShape, pixels: Array(features.row(index)))
  }

  /// The rows at `indices`, in that order, with the same classes and shape.
  public func subset(_ indices: some Collection<Int>) -> Dataset {
    Dataset(
      features: features.selectingRows(indices), labels: indices.map { labels[$0] },
      classNames: classNames, imageShape: imageShape, sources: indices.map { sources[$0] })
  }
}

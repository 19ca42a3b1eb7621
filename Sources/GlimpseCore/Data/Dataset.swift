/// A labelled table of feature rows: what every model, explainer and valuation method consumes.
///
/// Row `i` has features `features.row(i)`, class `classNames[labels[i]]`, and came from
/// `sources[i]` (a file path, or `table.csv:12` for line 12 of a table), so every later report
/// can say where a sample came from. When the rows are images, `imageShape` says how to fold a
/// row back into an `Image`.
///
/// The rows are stored as read (`storage`): tables as `Double`, 8-bit images as their codes
/// (`pixelCodes`, 1 byte a sample instead of 8, the same values bit for bit). `features` gives
/// every row as a `Double` matrix whatever the storage, building it (8 bytes a value) when the
/// rows are codes; code that walks a large image set takes chunks instead (`rows(_:)`,
/// `chunkRanges`) or the codes themselves.
public struct Dataset: Sendable {
  /// The feature rows, as stored.
  public private(set) var storage: FeatureRows
  /// Class index of each row, into `classNames`.
  public var labels: [Int]
  /// Class names in class-index order (sorted when read from files).
  public var classNames: [String]
  /// How a row folds into an image, when the rows are images.
  public var imageShape: ImageShape?
  /// Where each row came from.
  public var sources: [String]

  /// Creates a dataset of `Double` rows; the parts must agree (a broken invariant is a
  /// programming error).
  public init(
    features: Matrix, labels: [Int], classNames: [String], imageShape: ImageShape? = nil,
    sources: [String]
  ) {
    self.init(
      rows: .doubles(features), labels: labels, classNames: classNames, imageShape: imageShape,
      sources: sources)
  }

  /// Creates a dataset of rows stored either way; the parts must agree.
  public init(
    rows: FeatureRows, labels: [Int], classNames: [String], imageShape: ImageShape? = nil,
    sources: [String]
  ) {
    precondition(
      labels.count == rows.rows, "labels.count (\(labels.count)) != rows (\(rows.rows))")
    precondition(
      sources.count == rows.rows, "sources.count (\(sources.count)) != rows (\(rows.rows))")
    precondition(
      labels.allSatisfy { $0 >= 0 && $0 < classNames.count },
      "labels must lie in 0..<\(classNames.count)")
    if let imageShape {
      precondition(
        imageShape.valueCount == rows.columns,
        "image shape \(imageShape) holds \(imageShape.valueCount) values, rows have \(rows.columns)"
      )
    }
    self.storage = rows
    self.labels = labels
    self.classNames = classNames
    self.imageShape = imageShape
    self.sources = sources
  }

  /// `[count, featureCount]`: every row as `Double`. For 8-bit rows this builds the whole matrix
  /// (8 bytes a value) at each call; setting it stores `Double` rows.
  public var features: Matrix {
    get { storage.doubles() }
    set {
      precondition(
        newValue.rows == count && newValue.columns == featureCount,
        "features must stay [\(count), \(featureCount)], "
          + "not [\(newValue.rows), \(newValue.columns)]")
      storage = .doubles(newValue)
    }
  }

  /// The 8-bit codes when the rows are stored so (value `Double(k) / 255`), else `nil`.
  public var pixelCodes: PixelRows? {
    if case .pixels(let pixels) = storage { return pixels }
    return nil
  }

  /// Number of rows.
  public var count: Int { storage.rows }

  /// Number of features per row.
  public var featureCount: Int { storage.columns }

  /// Rows per class, in class-index order.
  public var classCounts: [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for label in labels { counts[label] += 1 }
    return counts
  }

  /// The contiguous rows `range` as a `Double` matrix (a chunk: 8 bytes a value of these rows
  /// only).
  public func rows(_ range: Range<Int>) -> Matrix {
    storage.rows(range).doubles()
  }

  /// Row `index` as `Double` values.
  public func values(ofRow index: Int) -> [Double] {
    storage.values(ofRow: index)
  }

  /// Smallest and largest feature value, or `nil` when there are none; without building the
  /// `Double` matrix.
  public var valueRange: ClosedRange<Double>? { storage.valueRange }

  /// Row `index` as an image, or `nil` when the dataset has no image shape.
  public func image(at index: Int) -> Image? {
    guard let imageShape else { return nil }
    return Image(shape: imageShape, pixels: values(ofRow: index))
  }

  /// The rows at `indices`, in that order, with the same classes, shape and storage.
  public func subset(_ indices: some Collection<Int>) -> Dataset {
    Dataset(
      rows: storage.selectingRows(indices), labels: indices.map { labels[$0] },
      classNames: classNames, imageShape: imageShape, sources: indices.map { sources[$0] })
  }

  /// The same rows (same storage) with new labels and class names.
  public func relabelled(_ labels: [Int], classNames: [String]) -> Dataset {
    Dataset(
      rows: storage, labels: labels, classNames: classNames, imageShape: imageShape,
      sources: sources)
  }
}

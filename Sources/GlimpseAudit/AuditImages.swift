import GlimpseCore

/// The images an audit looks at, as their 8-bit samples: the rows of DATA, then those of the
/// test set, each with its shape and its label's class name.
///
/// Row indices everywhere in the audit (duplicate groups, pairs, leaks) count through DATA first
/// and the test set after it, so `sources[i]` says where row `i` came from.
public struct AuditImages: Sendable {
  /// Each row's shape (rows of different sets may differ).
  public var shapes: [ImageShape]
  /// Each row's samples, `round(v × 255)` clamped to 0…255, interleaved by channel.
  public var samples: [[UInt8]]
  /// Each row's class name.
  public var labels: [String]
  /// Where each row came from (a file, or `table.csv:12`).
  public var sources: [String]
  /// The number of rows from DATA; the rest come from the test set.
  public var dataCount: Int

  /// The number of rows.
  public var count: Int { samples.count }

  /// Whether row `index` belongs to the test set.
  public func isTest(_ index: Int) -> Bool { index >= dataCount }

  /// The rows of `data` then those of `test`.
  ///
  /// - Precondition: both datasets hold images (`imageShape` is set).
  public init(data: Dataset, test: Dataset? = nil) {
    shapes = []
    samples = []
    labels = []
    sources = []
    dataCount = data.count
    for set in [data] + (test.map { [$0] } ?? []) {
      guard let shape = set.imageShape else { preconditionFailure("an audit needs images") }
      let codes = set.pixelCodes
      for row in 0..<set.count {
        shapes.append(shape)
        if let codes {
          samples.append(Array(codes.row(row)))
        } else {
          samples.append(Image(shape: shape, pixels: set.values(ofRow: row)).eightBitSamples())
        }
        labels.append(set.classNames[set.labels[row]])
        sources.append(set.sources[row])
      }
    }
  }

  /// Rows given directly (for tests and callers that decoded the images themselves).
  public init(
    shapes: [ImageShape], samples: [[UInt8]], labels: [String], sources: [String], dataCount: Int
  ) {
    precondition(
      shapes.count == samples.count && labels.count == samples.count
        && sources.count == samples.count && dataCount <= samples.count,
      "every row needs a shape, samples, a label and a source")
    precondition(
      zip(shapes, samples).allSatisfy { $0.valueCount == $1.count },
      "samples must fill their shape")
    self.shapes = shapes
    self.samples = samples
    self.labels = labels
    self.sources = sources
    self.dataCount = dataCount
  }

  /// Row `index` as an image with values in [0, 1].
  public func image(at index: Int) -> Image {
    Image(shape: shapes[index], eightBitSamples: samples[index])
  }
}

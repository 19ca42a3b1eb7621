import GlimpseCore

/// What a dataset holds at a glance: rows per class, image shapes and channels, and the spread
/// of intensities.
public struct DatasetProfile: Sendable, Equatable {
  /// One class and its row count.
  public struct ClassCount: Sendable, Equatable {
    /// The class name.
    public var name: String
    /// Rows with that label.
    public var count: Int
  }

  /// One image shape and how many rows have it.
  public struct ShapeCount: Sendable, Equatable {
    /// The shape.
    public var shape: ImageShape
    /// Rows with that shape.
    public var count: Int
  }

  /// Rows profiled.
  public var count: Int
  /// Rows per class, in the classes' sorted order (`AnnotatorAgreement.sortedGrades`).
  public var classes: [ClassCount]
  /// Rows per shape, most common first.
  public var shapes: [ShapeCount]
  /// The mean of each channel over every sample, in [0, 1].
  public var channelMeans: [Double]
  /// The standard deviation of each channel over every sample (population, over all pixels).
  public var channelDeviations: [Double]
  /// Each row's mean sample value, in [0, 1].
  public var imageMeans: [Double]
  /// Rows whose samples are all equal (blank images).
  public var blankRows: [Int]

  /// The largest class count over the smallest (1 for one class).
  public var imbalanceRatio: Double {
    let counts = classes.map(\.count)
    guard let high = counts.max(), let low = counts.min(), low > 0 else { return .infinity }
    return Double(high) / Double(low)
  }

  /// The profile of `rows` (all rows by default) of `images`.
  public init(_ images: AuditImages, rows: Range<Int>? = nil) {
    let rows = rows ?? 0..<images.count
    count = rows.count
    var perClass = [String: Int]()
    var perShape = [ImageShape: Int]()
    for row in rows {
      perClass[images.labels[row], default: 0] += 1
      perShape[images.shapes[row], default: 0] += 1
    }
    classes = AnnotatorAgreement.sortedGrades(Set(perClass.keys)).map {
      ClassCount(name: $0, count: perClass[$0]!)
    }
    shapes = perShape.map { ShapeCount(shape: $0.key, count: $0.value) }
      .sorted { ($1.count, $0.shape.description) < ($0.count, $1.shape.description) }
    let channels = rows.map { images.shapes[$0].channels }.max() ?? 1
    var sums = [Double](repeating: 0, count: channels)
    var squares = [Double](repeating: 0, count: channels)
    var counts = [Double](repeating: 0, count: channels)
    var means = [Double]()
    var blank = [Int]()
    for row in rows {
      let samples = images.samples[row]
      let c = images.shapes[row].channels
      var rowSums = [Int](repeating: 0, count: c)
      var rowSquares = [Int](repeating: 0, count: c)
      for (index, sample) in samples.enumerated() {
        let value = Int(sample)
        rowSums[index % c] += value
        rowSquares[index % c] += value * value
      }
      for channel in 0..<c {
        sums[channel] += Double(rowSums[channel]) / 255
        squares[channel] += Double(rowSquares[channel]) / (255 * 255)
        counts[channel] += Double(samples.count / c)
      }
      means.append(samples.isEmpty ? 0 : Double(rowSums.reduce(0, +)) / 255 / Double(samples.count))
      if let first = samples.first, samples.allSatisfy({ $0 == first }) { blank.append(row) }
    }
    let channelMeans = (0..<channels).map { counts[$0] > 0 ? sums[$0] / counts[$0] : 0 }
    self.channelMeans = channelMeans
    channelDeviations = (0..<channels).map { channel in
      guard counts[channel] > 0 else { return 0 }
      let mean = channelMeans[channel]
      return max(squares[channel] / counts[channel] - mean * mean, 0).squareRoot()
    }
    imageMeans = means
    blankRows = blank
  }
}

/// A row far from the rest of its class.
public struct Outlier: Sendable, Equatable {
  /// The row.
  public var row: Int
  /// The mean Euclidean distance from the row's descriptor to its `k` nearest descriptors of
  /// the same class, over the median of that distance in the class (2 = twice as far from its
  /// neighbours as the class's typical row).
  public var score: Double

  /// A row and its outlier score.
  public init(row: Int, score: Double) {
    self.row = row
    self.score = score
  }
}

extension AuditImages {
  /// Each row's outlier score: the mean Euclidean distance from its `ImageDescriptor` to its
  /// `k` nearest neighbours within its own class (the k-NN distance of Ramaswamy et al. 2000,
  /// "Efficient algorithms for mining outliers from large data sets", SIGMOD, with the mean over
  /// the k neighbours instead of the k-th alone), over `rows` only, divided by the class's
  /// median of that distance: a varied class (photos of many scenes) would otherwise fill the
  /// list with its ordinary rows, and a tight class hide a stray. Distances come from one BLAS
  /// product per class, `‖a − b‖² = ‖a‖² + ‖b‖² − 2 a·b`. Rows whose class has no other row
  /// score 0.
  ///
  /// - Returns: All rows of `rows`, highest score first.
  public func outliers(descriptors: [ImageDescriptor], rows: Range<Int>, k: Int = 5) -> [Outlier] {
    var byClass = [String: [Int]]()
    for row in rows { byClass[labels[row], default: []].append(row) }
    var result = [Outlier]()
    for members in byClass.values {
      var scores = [Double]()
      let width = ImageDescriptor.side * ImageDescriptor.side
      let matrix = Matrix(
        rows: members.count, columns: width, storage: members.flatMap { descriptors[$0].values })
      let norms = matrix.rowSquaredNorms()
      let gram = Matrix.product(matrix, matrix, transposeB: true)
      let neighbours = min(k, members.count - 1)
      for a in members.indices {
        guard neighbours > 0 else {
          scores.append(0)
          continue
        }
        var distances = [Double]()
        distances.reserveCapacity(members.count - 1)
        for b in 0..<members.count where b != a {
          distances.append(max(norms[a] + norms[b] - 2 * gram[a, b], 0).squareRoot())
        }
        distances.sort()
        scores.append(distances.prefix(neighbours).reduce(0, +) / Double(neighbours))
      }
      let sorted = scores.sorted()
      let median =
        sorted.isEmpty ? 0 : (sorted[(sorted.count - 1) / 2] + sorted[sorted.count / 2]) / 2
      for (row, score) in zip(members, scores) {
        result.append(Outlier(row: row, score: median > 0 ? score / median : 0))
      }
    }
    return result.sorted { ($1.score, $0.row) < ($0.score, $1.row) }
  }
}

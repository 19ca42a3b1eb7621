import GlimpseCore

// Implementation notes
// 1. Brute force, as scikit-learn's `algorithm="brute"`: squared distances of a block of query
//    rows to every training row are ‖x‖² + ‖t‖² − 2 x·t, the cross term one GEMM per block,
//    clamped at 0 (rounding can make the difference of two nearly equal numbers negative).
//    Blocks hold at most 2²⁰ distances (8 MB) however many queries come.
// 2. The k smallest of a row are kept in a sorted buffer filled in training order, so equal
//    distances keep the lower training index first (for k beyond 64 the whole row is sorted by
//    (distance, index) instead). scikit-learn's brute force promises no order on ties (it uses
//    `argpartition`); fixtures avoid ties at the k-th neighbour.
// 3. Ties are decided on the computed distances: duplicate training rows whose coordinates are
//    not exact in binary could in principle round differently in different GEMM tiles.
// 4. When training rows and queries are 8-bit pixels (k / 255), the cross term is an exact
//    float32 GEMM of the integer codes (`PixelCodes`, as for the SVM's kernel): twice dgemm's
//    rate, over the columns where some training row is non-zero, and the squared distances
//    (‖k‖² + ‖m‖² − 2 k · m) / 255² are exact before that one division, so ties are exact too.

/// k-nearest-neighbour classification with uniform weights and Euclidean distance.
///
/// Mirrors scikit-learn's `KNeighborsClassifier(n_neighbors=k, weights="uniform")` with the
/// brute-force search: the probability of a class is the fraction of the k nearest training
/// rows that have it, and `predict` is the most frequent class among them (the lower class
/// index on ties, as scikit-learn's `mode`). Among training rows at equal distance the lower
/// training index counts as nearer (scikit-learn leaves that order unspecified). When k exceeds
/// the number of training rows, all rows are used and probabilities are fractions of that
/// number (scikit-learn refuses such a k at prediction time).
///
/// Fitting stores the training rows; the model file holds them too.
///
/// Cover & Hart, "Nearest neighbor pattern classification", IEEE Trans. Inf. Theory 13(1), 1967.
public struct KNearestNeighbors: Classifier {
  /// Settings chosen before seeing data; defaults are scikit-learn's.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// Number of neighbours (scikit-learn's `n_neighbors`, ≥ 1).
    public var k: Int

    /// scikit-learn's default unless given.
    public init(k: Int = 5) { self.k = k }
  }

  /// The model kind written in model files.
  public static let kind = "knn"
  /// The settings the model was trained with.
  public let hyperparameters: Hyperparameters
  /// Class names, in label order (a probability column per class).
  public let classNames: [String]
  /// Values per input row (pixels × channels for images).
  public var featureCount: Int { trainingFeatures.columns }
  /// The training rows, `[trainingCount, featureCount]`.
  public let trainingFeatures: Matrix
  /// The class index of each training row.
  public let trainingLabels: [Int]
  private let trainingNorms: [Double]
  /// The training rows' codes over their non-zero columns, when they are 8-bit pixels.
  private let pixelTraining: (codes: PixelCodes, columns: [Int])?

  /// Distances computed per GEMM block of query rows.
  static let blockDistances = 1 << 20

  /// A model from its parts.
  init(
    hyperparameters: Hyperparameters, classNames: [String], trainingFeatures: Matrix,
    trainingLabels: [Int]
  ) {
    precondition(
      trainingLabels.count == trainingFeatures.rows,
      "trainingLabels.count (\(trainingLabels.count)) != rows (\(trainingFeatures.rows))")
    self.hyperparameters = hyperparameters
    self.classNames = classNames
    self.trainingFeatures = trainingFeatures
    self.trainingLabels = trainingLabels
    trainingNorms = trainingFeatures.rowSquaredNorms()
    let used = LogisticRegression.usedColumns(trainingFeatures)
    pixelTraining = PixelCodes(trainingFeatures, columns: used).map { ($0, used) }
  }

  /// Stores the training rows.
  /// - Throws: `ModelError.invalidHyperparameter` when k < 1, `.unsuitableData` for a dataset
  ///   without rows. A single class is accepted (every prediction is that class).
  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> KNearestNeighbors {
    guard hyperparameters.k >= 1 else {
      throw .invalidHyperparameter(
        name: "n_neighbors", value: "\(hyperparameters.k)", expected: "an integer ≥ 1")
    }
    guard data.count > 0 else { throw .unsuitableData("the dataset has no rows") }
    progress(1)
    return KNearestNeighbors(
      hyperparameters: hyperparameters, classNames: data.classNames,
      trainingFeatures: data.features, trainingLabels: data.labels)
  }

  /// The nearest training rows of each query row, nearest first.
  ///
  /// - Parameters:
  ///   - features: `[rows, featureCount]`.
  ///   - count: Neighbours per row (≥ 1); at most the number of training rows are returned.
  /// - Returns: `rows` lists of training-row indices, by increasing distance, ties to the lower
  ///   index.
  /// - Complexity: O(rows × training rows × features), in GEMM blocks.
  public func neighbors(of features: Matrix, count: Int) -> [[Int]] {
    precondition(count >= 1, "neighbour count (\(count)) must be ≥ 1")
    let width = min(count, trainingFeatures.rows)
    let flat = nearest(features, count: width)
    return (0..<features.rows).map { Array(flat[$0 * width..<($0 + 1) * width]) }
  }

  /// Class frequencies among the k nearest training rows.
  ///
  /// - Parameter features: `[rows, featureCount]`.
  /// - Returns: `[rows, classNames.count]`, multiples of 1/k (1/training rows when k is larger).
  public func predictProbabilities(_ features: Matrix) -> Matrix {
    let width = min(hyperparameters.k, trainingFeatures.rows)
    let flat = nearest(features, count: width)
    var probabilities = Matrix(rows: features.rows, columns: classNames.count)
    var counts = [Int](repeating: 0, count: classNames.count)
    for row in 0..<features.rows {
      for index in 0..<counts.count { counts[index] = 0 }
      for position in row * width..<(row + 1) * width {
        counts[trainingLabels[flat[position]]] += 1
      }
      // One division per class, as scikit-learn's count / k: summing k shares of 1/k would round
      // differently (3 × 0.2 ≠ 0.6).
      for (label, count) in counts.enumerated() where count > 0 {
        probabilities[row, label] = Double(count) / Double(width)
      }
    }
    return probabilities
  }

  /// Indices of the `count` nearest training rows of each query row, `[rows × count]` flat.
  func nearest(
    _ queries: Matrix, count: Int, blockDistances: Int = KNearestNeighbors.blockDistances
  ) -> [Int] {
    precondition(
      queries.columns == featureCount,
      "features have \(queries.columns) columns, the model \(featureCount)")
    let (m, n, d) = (queries.rows, trainingFeatures.rows, featureCount)
    precondition(count >= 1 && count <= n, "count (\(count)) must lie in 1...\(n)")
    var result = [Int](repeating: 0, count: m * count)
    let blockRows = max(1, min(m, blockDistances / max(n, 1)))
    var selection = NeighborSelection(count: count)
    for blockStart in stride(from: 0, to: m, by: blockRows) {
      let rows = min(blockRows, m - blockStart)
      let block = Matrix(
        rows: rows, columns: d,
        storage: Array(queries.storage[blockStart * d..<(blockStart + rows) * d]))
      var distances: Matrix
      if let pixelTraining, let codes = PixelCodes(block, columns: pixelTraining.columns) {
        distances = Self.pixelDistances(codes, pixelTraining.codes)
        selectNearest(
          distances, blockStart: blockStart, count: count, into: &result, selection: &selection)
        continue
      }
      distances = Matrix(rows: rows, columns: n)
      Matrix.multiply(block, trainingFeatures, transposeB: true, alpha: -2, into: &distances)
      let queryNorms = block.rowSquaredNorms()
      distances.storage.withUnsafeMutableBufferPointer { dBuffer in
        trainingNorms.withUnsafeBufferPointer { tBuffer in
          result.withUnsafeMutableBufferPointer { rBuffer in
            guard let dist = dBuffer.baseAddress, let norms = tBuffer.baseAddress,
              let out = rBuffer.baseAddress
            else { return }
            for r in 0..<rows {
              let row = dist + r * n
              let queryNorm = queryNorms[r]
              for j in 0..<n { row[j] = max(0, row[j] + queryNorm + norms[j]) }
              selection.select(row, count: n, into: out + (blockStart + r) * count)
            }
          }
        }
      }
    }
    return result
  }

  /// Squared distances of pixel rows from exact integer dot products: (‖k‖² + ‖m‖² − 2 k · m)
  /// / 255², each exact before the division.
  static func pixelDistances(_ queries: PixelCodes, _ training: PixelCodes) -> Matrix {
    var distances = PixelCodes.dotProducts(queries, training)
    let columns = training.rows
    distances.storage.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      for r in 0..<queries.rows {
        let row = base + r * columns
        let queryNorm = queries.squaredNorms[r]
        for j in 0..<columns {
          row[j] = (queryNorm + training.squaredNorms[j] - 2 * row[j]) / PixelCodes.scale
        }
      }
    }
    return distances
  }

  /// Writes the nearest `count` of each row of `distances` (a block of queries starting at
  /// `blockStart`) into `result`.
  private func selectNearest(
    _ distances: Matrix, blockStart: Int, count: Int, into result: inout [Int],
    selection: inout NeighborSelection
  ) {
    let n = distances.columns
    distances.storage.withUnsafeBufferPointer { dBuffer in
      result.withUnsafeMutableBufferPointer { rBuffer in
        guard let dist = dBuffer.baseAddress, let out = rBuffer.baseAddress else { return }
        for r in 0..<distances.rows {
          selection.select(dist + r * n, count: n, into: out + (blockStart + r) * count)
        }
      }
    }
  }
}

/// The `count` smallest of a row of distances, by (distance, index).
struct NeighborSelection {
  let count: Int
  private var distances: [Double]
  private var indices: [Int]
  private var order: [Int] = []

  /// Beyond this many neighbours a full sort beats insertion into the sorted buffer.
  static let insertionLimit = 64

  init(count: Int) {
    self.count = count
    distances = [Double](repeating: 0, count: count)
    indices = [Int](repeating: 0, count: count)
  }

  /// Writes the indices of the `self.count` smallest of `row[0..<count]` to `output`, nearest
  /// first, equal distances by increasing index.
  mutating func select(
    _ row: UnsafePointer<Double>, count n: Int, into output: UnsafeMutablePointer<Int>
  ) {
    let k = count
    if k > Self.insertionLimit {
      order = Array(0..<n)
      order.sort { row[$0] < row[$1] || (row[$0] == row[$1] && $0 < $1) }
      for position in 0..<k { output[position] = order[position] }
      return
    }
    distances.withUnsafeMutableBufferPointer { dBuffer in
      indices.withUnsafeMutableBufferPointer { iBuffer in
        guard let kept = dBuffer.baseAddress, let keptIndex = iBuffer.baseAddress else { return }
        var filled = 0
        for j in 0..<n {
          let value = row[j]
          // Strictly smaller than the k-th: an equal distance keeps the earlier (lower) index.
          if filled == k && !(value < kept[k - 1]) { continue }
          var position = filled == k ? k - 1 : filled
          while position > 0 && kept[position - 1] > value {
            kept[position] = kept[position - 1]
            keptIndex[position] = keptIndex[position - 1]
            position -= 1
          }
          kept[position] = value
          keptIndex[position] = j
          if filled < k { filled += 1 }
        }
        for position in 0..<k { output[position] = keptIndex[position] }
      }
    }
  }
}

extension KNearestNeighbors {
  /// Saves the training rows (`features`, `[rows, featureCount]`) and their `labels`.
  public func archive() -> ModelArchive {
    ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount,
      hyperparameters: hyperparameters, doubles: ["features": trainingFeatures.storage],
      integers: ["labels": trainingLabels])
  }

  /// Restores a model saved by `archive()`.
  /// - Throws: `ModelError.wrongKind`, or `.corruptModelFile` when arrays are missing or have
  ///   the wrong size, a label is not a class, a feature is not finite, or k < 1.
  public init(archive: ModelArchive) throws(ModelError) {
    guard archive.kind == Self.kind else {
      throw .wrongKind(found: archive.kind, expected: Self.kind)
    }
    let hyperparameters = try archive.hyperparameters(as: Hyperparameters.self)
    guard hyperparameters.k >= 1 else {
      throw .corruptModelFile("hyperparameter 'k' is \(hyperparameters.k), expected ≥ 1")
    }
    let classCount = try archive.classCount()
    let labels = try archive.integers("labels", in: 0..<classCount)
    guard !labels.isEmpty else {
      throw .corruptModelFile("array 'labels' is empty (the model has no training rows)")
    }
    let d = archive.featureCount
    let features = try archive.finiteDoubles(
      "features", count: ModelArchive.product(labels.count, d, for: "features"))
    self.init(
      hyperparameters: hyperparameters, classNames: archive.classNames,
      trainingFeatures: Matrix(rows: labels.count, columns: d, storage: features),
      trainingLabels: labels)
  }
}

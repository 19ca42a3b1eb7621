/// The confident joint of confident learning (Northcutt, Jiang & Chuang 2021, JAIR 70,
/// section 3.1, eq. 1–2), with cleanlab 2.9's exact conventions (`cleanlab.count`).
///
/// `counts[i][j]` counts rows given label `i` whose probability of class `j` reaches class
/// `j`'s threshold (the mean self-confidence of the rows labelled `j`, eq. 2). A row above the
/// threshold of several classes counts for its most probable class; each diagonal entry is
/// raised to at least 1; `calibrated` then scales row `i` to the number of rows labelled `i`
/// and the whole to the row count (eq. 3), rounded with `round_preserving_row_totals`.
public struct ConfidentJoint: Sendable, Equatable {
  /// Per-class thresholds `t_j`: the mean predicted probability of `j` over rows labelled `j`;
  /// 2 (unreachable) for a class no row carries; at least 2·10⁻⁶.
  public var thresholds: [Double]
  /// The raw confident joint, rows = given label, columns = the confidently predicted class.
  public var counts: [[Int]]
  /// The calibrated confident joint (rows sum to the given-label counts).
  public var calibrated: [[Int]]
  /// Rows counted off the diagonal (given label ≠ confident class), ascending: cleanlab's
  /// `confident_learning` candidates.
  public var offDiagonalRows: [Int]

  /// The confident joint of `labels` (class indices into `probabilities.classes`).
  /// - Precondition: one label per row, each a valid column.
  public init(labels: [Int], probabilities: ClassProbabilities) {
    let classCount = probabilities.classCount
    precondition(labels.count == probabilities.rows, "one label per row")
    var byClass = [[Double]](repeating: [], count: classCount)
    for (row, label) in labels.enumerated() { byClass[label].append(probabilities[row, label]) }
    thresholds = byClass.map { values in
      // np.mean: numpy's pairwise sum over the gathered values, over their count.
      let mean = values.isEmpty ? 2 : NumpyRounding.pairwiseSum(values) / Double(values.count)
      return max(mean, 2e-6)
    }
    var counts = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
    var offDiagonal = [Int]()
    for (row, label) in labels.enumerated() {
      var confident = 0
      var firstConfident = -1
      for column in 0..<classCount
      where probabilities[row, column] >= thresholds[column] - 1e-6 {
        confident += 1
        if firstConfident < 0 { firstConfident = column }
      }
      guard confident > 0 else { continue }
      let guess = confident > 1 ? probabilities.argmax(row) : firstConfident
      counts[label][guess] += 1
      if guess != label { offDiagonal.append(row) }
    }
    for k in 0..<classCount { counts[k][k] = max(counts[k][k], 1) }
    self.counts = counts
    offDiagonalRows = offDiagonal
    calibrated = Self.calibrate(counts, labelCounts: Self.labelCounts(labels, classCount))
  }

  /// How many rows carry each label.
  static func labelCounts(_ labels: [Int], _ classCount: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: classCount)
    for label in labels { counts[label] += 1 }
    return counts
  }

  /// cleanlab's `calibrate_confident_joint`: row `i` times `n_i / Σ_j C[i][j]`, then the whole
  /// times `n / Σ`, rounded per row preserving the row totals. The operations run in cleanlab's
  /// order (divide, then multiply; numpy's pairwise sum for the total) so halves round alike.
  static func calibrate(_ counts: [[Int]], labelCounts: [Int]) -> [[Int]] {
    var scaled = counts.enumerated().map { i, row in
      let total = max(Double(row.reduce(0, +)), 1e-100)
      return row.map { Double($0) / total * Double(labelCounts[i]) }
    }
    let sum = max(NumpyRounding.pairwiseSum(scaled.flatMap { $0 }), 1e-100)
    let rows = Double(labelCounts.reduce(0, +))
    scaled = scaled.map { row in row.map { $0 / sum * rows } }
    return NumpyRounding.roundPreservingRowTotals(scaled)
  }
}

/// Label issues by confident learning (Northcutt, Jiang & Chuang 2021), with the semantics of
/// cleanlab 2.9's `cleanlab.filter.find_label_issues` for single-label classification: the
/// same probabilities and labels give the same issue mask and calibrated confident joint, and
/// the issues are ranked by self-confidence as `cleanlab.rank.order_label_issues` ranks them.
///
/// Where cleanlab sorts with numpy's unstable `argsort`, this sorts stably (ties by row), so
/// exactly tied probabilities at a cut-off may select a different one of the tied rows.
public struct ConfidentLearning: Sendable, Equatable {
  /// The filter (`filter_by`); cleanlab's default is `prune_by_noise_rate`.
  public var filter = LabelIssueFilter.pruneByNoiseRate
  /// The fraction of each off-diagonal count pruned (`frac_noise`, pruning filters only).
  public var fractionOfNoise = 1.0
  /// How many issues to flag in each class (`num_to_remove_per_class`, pruning filters only),
  /// or nil for the confident joint's estimate.
  public var removePerClass: [Int]?
  /// Classes with at most this many rows are not pruned, and pruning leaves at least this
  /// many in each class (`min_examples_per_class`).
  public var minimumPerClass = 1

  /// cleanlab's defaults.
  public init() {}

  /// Finds the rows whose given label is likely wrong.
  ///
  /// - Parameters:
  ///   - labels: Each row's given class, an index into `probabilities.classes`.
  ///   - probabilities: Out-of-sample predicted probabilities (e.g. `OutOfFold`).
  /// - Throws: `AuditError` for mismatched inputs or options that do not apply.
  public func findIssues(labels: [Int], probabilities: ClassProbabilities) throws(AuditError)
    -> LabelIssues
  {
    let classCount = probabilities.classCount
    guard labels.count == probabilities.rows else {
      throw AuditError("\(labels.count) labels for \(probabilities.rows) rows of probabilities")
    }
    guard labels.allSatisfy({ (0..<classCount).contains($0) }) else {
      throw AuditError("a label lies outside the \(classCount) classes of the probabilities")
    }
    guard fractionOfNoise >= 0, fractionOfNoise <= 1 else {
      throw AuditError("the fraction of noise must lie in [0, 1]")
    }
    if let removePerClass {
      guard filter.prunes else {
        throw AuditError("a count to remove per class applies to the pruning filters only")
      }
      guard removePerClass.count == classCount else {
        throw AuditError("\(removePerClass.count) counts to remove for \(classCount) classes")
      }
    }
    let joint = ConfidentJoint(labels: labels, probabilities: probabilities)
    var mask = [Bool](repeating: false, count: labels.count)
    let rowsOf = (0..<classCount).map { k in labels.indices.filter { labels[$0] == k } }
    switch filter {
    case .pruneByNoiseRate, .pruneByClass, .both:
      let prune = pruneCounts(joint: joint, labels: labels)
      var byClass = [Bool](repeating: false, count: labels.count)
      if filter != .pruneByNoiseRate {
        byClass = pruneByClass(rowsOf: rowsOf, prune: prune, probabilities: probabilities)
      }
      if filter != .pruneByClass {
        mask = pruneByNoiseRate(rowsOf: rowsOf, prune: prune, probabilities: probabilities)
        if filter == .both { mask = zip(mask, byClass).map { $0 && $1 } }
      } else {
        mask = byClass
      }
    case .confidentLearning:
      for row in joint.offDiagonalRows { mask[row] = true }
    case .predictedNeqGiven:
      for row in labels.indices { mask[row] = probabilities.argmax(row) != labels[row] }
    case .lowSelfConfidence, .lowNormalizedMargin:
      // cleanlab's `num_label_issues` ("off_diagonal"): the confident_learning count.
      let count = joint.offDiagonalRows.count {
        !Self.nearlyPredicted(row: $0, labels: labels, probabilities: probabilities)
      }
      let scores = labels.indices.map { row in
        let given = probabilities[row, labels[row]]
        guard filter == .lowNormalizedMargin else { return given }
        var other = -Double.infinity
        for column in 0..<classCount where column != labels[row] {
          other = max(other, probabilities[row, column])
        }
        return (given - other + 1) / 2
      }
      let order = labels.indices.sorted { (scores[$0], $0) < (scores[$1], $1) }
      for row in order.prefix(count) { mask[row] = true }
    }
    // cleanlab's `_reduce_issues` (not for the low_* filters): a row whose given label is
    // within 1e-6 of the top probability is not an issue.
    if filter != .lowSelfConfidence && filter != .lowNormalizedMargin {
      for row in labels.indices
      where mask[row]
        && Self.nearlyPredicted(row: row, labels: labels, probabilities: probabilities)
      {
        mask[row] = false
      }
    }
    let selfConfidence = labels.indices.map { probabilities[$0, labels[$0]] }
    let ranked = labels.indices.filter { mask[$0] }.sorted {
      (selfConfidence[$0], $0) < (selfConfidence[$1], $1)
    }
    return LabelIssues(
      filter: filter, mask: mask, ranked: ranked, selfConfidence: selfConfidence, joint: joint)
  }

  /// Whether the given label, raised by 1e-6, is the (first) most probable class: cleanlab's
  /// `_reduce_issues` test.
  static func nearlyPredicted(row: Int, labels: [Int], probabilities: ClassProbabilities)
    -> Bool
  {
    var boosted = Array(probabilities.row(row))
    boosted[labels[row]] += 1e-6
    var best = 0
    for column in 1..<boosted.count where boosted[column] > boosted[best] { best = column }
    return best == labels[row]
  }

  /// The prune-count matrix, transposed like cleanlab's (`[true][given]`): the calibrated joint
  /// with every class keeping `minimumPerClass` rows (`_keep_at_least_n_per_class`), the
  /// off-diagonal scaled by `fractionOfNoise` (`_reduce_prune_counts`), or re-spread to
  /// `removePerClass`.
  func pruneCounts(joint: ConfidentJoint, labels: [Int]) -> [[Int]] {
    let k = joint.calibrated.count
    let transposed = (0..<k).map { i in (0..<k).map { j in Double(joint.calibrated[j][i]) } }
    var matrix = transposed
    for column in 0..<k {
      let diagonal = transposed[column][column]
      let raised = max(diagonal, Double(minimumPerClass))
      let nonZero = (0..<k).count { transposed[$0][column] != 0 }
      let share = (raised - diagonal) / max(Double(nonZero) - 1, 1)
      for row in 0..<k {
        matrix[row][column] = max(transposed[row][column] - share, 0)
      }
      matrix[column][column] = raised
    }
    // `_reduce_prune_counts`: scale the off-diagonal, give the diagonal what was removed from
    // its column, truncate to integers.
    var reduced = matrix
    for column in 0..<k {
      var removed = 0.0
      for row in 0..<k where row != column {
        reduced[row][column] = matrix[row][column] * fractionOfNoise
        removed += matrix[row][column] - reduced[row][column]
      }
      reduced[column][column] = matrix[column][column] + removed
    }
    var prune = reduced.map { $0.map { Double(Int($0)) } }
    if let removePerClass {
      // cleanlab divides each entry [a][b] by row b's total and spreads `removePerClass[a]`
      // over row a in those proportions, the diagonal keeping the rest of the class.
      let totals = prune.map { $0.reduce(0, +) }
      let shares = prune.map { row in row.indices.map { row[$0] / totals[$0] } }
      let counts = ConfidentJoint.labelCounts(labels, k)
      prune = shares.indices.map { a in
        let noise = NumpyRounding.pairwiseSum(shares[a]) - shares[a][a]
        return shares[a].indices.map { b in
          b == a
            ? Double(counts[a] - removePerClass[a])
            : shares[a][b] * Double(removePerClass[a]) / noise
        }
      }
    }
    return NumpyRounding.roundPreservingRowTotals(prune)
  }

  /// `prune_by_class`: in each class `k` with more than `minimumPerClass` rows, the
  /// `n_k − prune[k][k]` rows with the lowest `p_k`.
  func pruneByClass(rowsOf: [[Int]], prune: [[Int]], probabilities: ClassProbabilities)
    -> [Bool]
  {
    var mask = [Bool](repeating: false, count: probabilities.rows)
    // cleanlab writes a class's mask back only when the class has two rows or more.
    for (k, rows) in rowsOf.enumerated() where rows.count > minimumPerClass && rows.count > 1 {
      let issues = rows.count - prune[k][k]
      guard issues >= 1 else { continue }
      let order = rows.sorted { (probabilities[$0, k], $0) < (probabilities[$1, k], $1) }
      for row in order.prefix(issues) { mask[row] = true }
    }
    return mask
  }

  /// `prune_by_noise_rate`: in each class `k` with more than `minimumPerClass` rows, for each
  /// other class `j`, the `prune[j][k]` rows with the largest margin `p_j − p_k`.
  func pruneByNoiseRate(rowsOf: [[Int]], prune: [[Int]], probabilities: ClassProbabilities)
    -> [Bool]
  {
    var mask = [Bool](repeating: false, count: probabilities.rows)
    for (k, rows) in rowsOf.enumerated() where rows.count > minimumPerClass && rows.count > 1 {
      for j in prune.indices where j != k && prune[j][k] > 0 {
        let margin = rows.map { probabilities[$0, j] - probabilities[$0, k] }
        let order = margin.indices.sorted { (-margin[$0], $0) < (-margin[$1], $1) }
        for position in order.prefix(prune[j][k]) { mask[rows[position]] = true }
      }
    }
    return mask
  }
}

/// What `ConfidentLearning.findIssues` found.
public struct LabelIssues: Sendable, Equatable {
  /// The filter used.
  public var filter: LabelIssueFilter
  /// `mask[i]`: row `i`'s given label is likely wrong.
  public var mask: [Bool]
  /// The flagged rows, lowest self-confidence first (ties by row).
  public var ranked: [Int]
  /// Each row's predicted probability of its given label.
  public var selfConfidence: [Double]
  /// The confident joint (thresholds, raw and calibrated counts).
  public var joint: ConfidentJoint

  /// Findings from their parts (`ConfidentLearning.findIssues` computes them).
  public init(
    filter: LabelIssueFilter, mask: [Bool], ranked: [Int], selfConfidence: [Double],
    joint: ConfidentJoint
  ) {
    self.filter = filter
    self.mask = mask
    self.ranked = ranked
    self.selfConfidence = selfConfidence
    self.joint = joint
  }
}

import GlimpseCore

// Implementation notes
// 1. Why: data valuation fits logistic regression on thousands of subsets of one training set
//    (TMC's prefixes, Data-OOB's bags). Through `fit(_:...)` each fit copied its rows into a
//    new dense matrix, scanned it for used columns, copied those columns and scanned again for
//    the non-zeros: ~20 % of a Data-OOB bag on the anchor digits, more than the products of
//    some short warm-started TMC fits. Here the training set's non-zeros are found once, and a
//    subset's sparse rows are a copy of its rows' non-zeros with the unused columns dropped.
// 2. The objective is the one `fit(_:...)` minimises on the same rows (same sparse products,
//    in the same order); only the feature means are summed over the non-zeros instead of by a
//    GEMV, a difference in the last bits. Subsets of a set too dense for the sparse products
//    (`SoftmaxObjective.sparseDensity`) go through `fit(_:...)` on the subset.

extension LogisticRegression {
  /// One training set made ready for many fits on its subsets: its features' non-zeros are
  /// found once, and each fit takes its rows from them (see the notes). The fits equal
  /// `fit(data.subset(rows), ...)` up to the solver's tolerance.
  public struct SubsetTrainer: Sendable {
    /// The training set subsets are drawn from.
    public let data: Dataset
    /// Its features' non-zeros, or `nil` when they are too dense for the sparse products.
    let rows: SparseRows?

    /// Prepares `data` (one pass over its features).
    public init(_ data: Dataset) {
      self.data = data
      let features = data.features
      let sparse = SparseRows(features)
      let used = sparse.usedColumns(inRows: Array(0..<sparse.rows), width: features.columns)
      let dense = SoftmaxObjective.sparseDensity * Double(max(features.rows * used.count, 1))
      rows = Double(sparse.values.count) <= dense ? sparse : nil
    }

    /// A model trained on the training rows `rows` (repeats allowed: a repeated row counts as
    /// often), each weighing `sampleWeights[i]` when given, as
    /// `fit(data.subset(rows), sampleWeights:, hyperparameters:, warmStart:)`.
    ///
    /// - Throws: `ModelError.unsuitableData` for no rows, a row out of range or weights that
    ///   are not one finite positive value per row; `.invalidHyperparameter` as `fit`.
    public func fit(
      rows subset: [Int], sampleWeights: [Double]? = nil, hyperparameters h: Hyperparameters,
      warmStart: LogisticRegression? = nil
    ) throws(ModelError) -> LogisticRegression {
      guard !subset.isEmpty else { throw .unsuitableData("the subset has no rows") }
      guard subset.allSatisfy({ (0..<data.count).contains($0) }) else {
        throw .unsuitableData("a row of the subset is outside the \(data.count) training rows")
      }
      if let sampleWeights {
        guard sampleWeights.count == subset.count else {
          throw .unsuitableData("\(sampleWeights.count) sample weights for \(subset.count) rows")
        }
        guard sampleWeights.allSatisfy({ $0.isFinite && $0 > 0 }) else {
          throw .unsuitableData("sample weights must be finite and positive")
        }
      }
      guard let rows else {
        let part = data.subset(subset)
        guard let sampleWeights else {
          return try LogisticRegression.fit(part, hyperparameters: h, warmStart: warmStart)
        }
        return try LogisticRegression.fit(
          part, sampleWeights: sampleWeights, hyperparameters: h, warmStart: warmStart)
      }
      try h.validate()
      try checkWarmStart(warmStart, for: data)
      let d = data.featureCount
      var counts = [Int](repeating: 0, count: data.classNames.count)
      for r in subset { counts[data.labels[r]] += 1 }
      let present = counts.indices.filter { counts[$0] > 0 }
      guard present.count > 1 else {
        return LogisticRegression(
          hyperparameters: h, classNames: data.classNames, featureCount: d,
          fittedClasses: present, weights: Matrix(rows: 1, columns: d), intercepts: [0],
          iterations: 0, converged: true)
      }
      var position = [Int](repeating: 0, count: counts.count)
      for (k, label) in present.enumerated() { position[label] = k }
      let used = rows.usedColumns(inRows: subset, width: d)
      var columnMap = [Int32](repeating: -1, count: d)
      for (k, column) in used.enumerated() { columnMap[column] = Int32(k) }
      // Two classes: the softmax at C/2 is scikit-learn's binomial model at C (see the type).
      let objective = SoftmaxObjective(
        sparseRows: rows.selecting(rows: subset, columnMap: columnMap), columns: used.count,
        labels: subset.map { position[data.labels[$0]] }, classCount: present.count,
        c: present.count == 2 ? h.c / 2 : h.c, fitIntercept: h.fitIntercept,
        sampleWeights: sampleWeights)
      return solve(
        objective, present: present, usedColumns: used, featureCount: d,
        classNames: data.classNames, hyperparameters: h, warmStart: warmStart, progress: { _ in })
    }

    /// `model.predict` on the rows `rows` of the training set, from their non-zeros (no copy
    /// of the rows): the fitted class of largest logit, the first on ties. Logits order
    /// classes as the probabilities do, so this is `predict`'s answer but where two
    /// probabilities tie after rounding while their logits do not.
    public func predictions(of model: LogisticRegression, rows subset: [Int]) -> [Int] {
      guard let rows else { return model.predict(data.features.selectingRows(subset)) }
      let (d, fitted) = (data.featureCount, model.fittedClasses.count)
      precondition(
        model.featureCount == d, "the model has \(model.featureCount) features, not \(d)")
      // Wᵀ in padded rows, so that a non-zero's weights for every class are one contiguous run
      // of `lanes` values, multiplied by the sparse product's kernel one row at a time.
      let lanes = SparseRows.lanes(for: fitted)
      var transposed = [Double](repeating: 0, count: d * lanes)
      for k in 0..<fitted {
        for j in 0..<d { transposed[j * lanes + k] = model.weights[k, j] }
      }
      var logits = [Double](repeating: 0, count: lanes)
      return subset.map { r in
        rows.multiply(transposed, lanes: lanes, row: r, into: &logits)
        for k in 0..<fitted { logits[k] += model.intercepts[k] }
        var best = 0
        for k in 1..<max(fitted, 1) where logits[k] > logits[best] { best = k }
        return model.fittedClasses[best]
      }
    }
  }
}

import CKernels
import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

// Implementation notes
// 1. Same minimiser as scikit-learn first, speed second. Both changes below are exact changes of
//    variables or of the problem's size; the optimum and the stopping rule (measured on the
//    gradient with respect to the original W and b, scaled as scikit-learn scales it) are
//    scikit-learn's.
// 2. Features that are zero in every training row (the border pixels of digits) only meet the
//    penalty, so their optimal weights are 0: they are dropped before fitting and restored as 0
//    (612 of 784 columns remain on the 1000 anchor digits).
// 3. L-BFGS runs on centred coordinates (W, b' = b + Wμ), μ the feature means, i.e. on centred
//    features with the same penalty. This is the same problem (W x + b = W (x − μ) + b'), but the
//    large common mean no longer couples every weight with the intercepts: on the anchor digits
//    L-BFGS needs 39 iterations instead of 84 for tol = 1e-4 (128 instead of 381 for 1e-8). The
//    centred copy of X is never formed: b = b' − Wμ is one GEMV and ∇_W' = ∇_W − ∇_b μᵀ one GER.
// 4. Each evaluation is two products, Z = X Wᵀ ([n, classes]) and ∇_W = C (P − Y)ᵀ X + W, with
//    the softmax in between over each sample's contiguous row of Z, through raw pointers because
//    buffer subscripts stay bounds-checked in release builds.
// 5. Mostly-zero features (pixels: 25 % of the anchor digits' used values are non-zero) are
//    multiplied as sparse matrices: row i of Z sums x_ij · W[:, j] over the non-zeros of row i
//    of X, and column j of (P − Y)ᵀ X sums x_ij · (P − Y)[i, :] over the non-zeros of column j
//    (X is kept both by rows and by columns), each sum held in registers (`SparseRows`). A
//    quarter of the multiply-adds, and no packing of X, which is where GEMM spends most of its
//    time at these skinny sizes (10 classes). Denser features keep the two GEMMs. Only the
//    order of the additions differs between the two, so both reach the same optimum (the tests
//    check both against scikit-learn's).
// 6. With the sparse products and a tolerance of at least 1e-5 (scikit-learn's default is 1e-4)
//    L-BFGS first runs on products in Float (`SparseRows.multiply` on Float rows, ~1.7 times as
//    fast: half the bytes per row and twice the lanes per register), everything else in Double.
//    From its last point, a second L-BFGS on the Double products evaluates the same stopping
//    rule and, when the Float run stopped short of it (its rounding noise can end a line search
//    early), iterates on to it. So the returned fit meets scikit-learn's criterion exactly as
//    before, usually after one Double evaluation. On Data-OOB's bags of the anchor digits this
//    cut a bag by ~20 %.
// 7. In that Float phase the softmax's exponentials and logarithms are Float too, eight at a
//    time (`CKernels`' vector exp and log, within 2 ulp of Float): libm's scalar Double exp and
//    log were ~7 % of a Data-OOB bag once the products ran in AVX2.

extension LogisticRegression {
  /// Fits the classes present in `data` (at least one row is guaranteed by the caller).
  /// `sampleWeights` (one positive weight per row, or `nil` for 1 each) weigh the rows' losses.
  static func fitPresentClasses(
    _ data: Dataset, hyperparameters h: Hyperparameters, warmStart: LogisticRegression?,
    sampleWeights: [Double]? = nil, progress: (Double) -> Void
  ) -> LogisticRegression {
    let d = data.featureCount
    let present = data.classCounts.indices.filter { data.classCounts[$0] > 0 }
    guard present.count > 1 else {
      return LogisticRegression(
        hyperparameters: h, classNames: data.classNames, featureCount: d, fittedClasses: present,
        weights: Matrix(rows: 1, columns: d), intercepts: [0], iterations: 0, converged: true)
    }
    let position = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
    let labels = data.labels.map { position[$0] ?? 0 }
    let all = data.features  // once: 8-bit rows build a new `Double` matrix each time
    let used = usedColumns(all)
    let features = used.count == d ? all : selectingColumns(used, of: all)

    // Two classes: the softmax at C/2 is scikit-learn's binomial model at C (see the type's
    // documentation).
    let c = present.count == 2 ? h.c / 2 : h.c
    let objective = SoftmaxObjective(
      features: features, labels: labels, classCount: present.count, c: c,
      fitIntercept: h.fitIntercept, sparse: nil, sampleWeights: sampleWeights)
    return solve(
      objective, present: present, usedColumns: used, featureCount: d,
      classNames: data.classNames, hyperparameters: h, warmStart: warmStart, progress: progress)
  }

  /// Minimises `objective` (over the `present` classes and the `usedColumns` of
  /// `featureCount`) from zero or `warmStart`, and returns the model it gives.
  static func solve(
    _ objective: SoftmaxObjective, present: [Int], usedColumns used: [Int], featureCount d: Int,
    classNames: [String], hyperparameters h: Hyperparameters, warmStart: LogisticRegression?,
    progress: (Double) -> Void
  ) -> LogisticRegression {
    var start = [Double](repeating: 0, count: objective.parameterCount)
    if let warmStart {
      let (w, b) = warmStartRows(warmStart, present: present, columns: used)
      start = objective.parameters(weights: w, intercepts: b)
    }
    var solver = LBFGS(memory: h.memory, maxIterations: h.maxIterations, tolerance: h.tolerance)
    var result: LBFGS.Result
    if objective.sparseFeatures != nil && h.tolerance >= singlePrecisionTolerance {
      // Note 6: Float products first, then the stopping rule checked (and, if need be, met) on
      // Double products from there.
      objective.singlePrecisionProducts = true
      let rough = solver.minimize(
        from: start, objective: objective.evaluate, gradientSize: objective.scaledGradientSize,
        progress: progress)
      objective.singlePrecisionProducts = false
      solver.maxIterations = max(0, h.maxIterations - rough.iterations)
      result = solver.minimize(
        from: rough.x, objective: objective.evaluate, gradientSize: objective.scaledGradientSize,
        progress: progress)
      result.iterations += rough.iterations
      result.evaluations += rough.evaluations
    } else {
      result = solver.minimize(
        from: start, objective: objective.evaluate, gradientSize: objective.scaledGradientSize,
        progress: progress)
    }
    var (compactWeights, intercepts) = objective.originalParameters(result.x)
    if h.fitIntercept {
      let mean = intercepts.reduce(0, +) / Double(intercepts.count)
      for k in intercepts.indices { intercepts[k] -= mean }
    }
    var weights = Matrix(rows: present.count, columns: d)
    for k in 0..<present.count {
      for (compact, column) in used.enumerated() { weights[k, column] = compactWeights[k, compact] }
    }
    return LogisticRegression(
      hyperparameters: h, classNames: classNames, featureCount: d, fittedClasses: present,
      weights: weights, intercepts: intercepts, iterations: result.iterations,
      converged: result.outcome == .converged || result.outcome == .stalled)
  }

  /// The smallest tolerance for which a fit starts on single-precision sparse products (note 6).
  /// Float's rounding (~1e-7 relative) is far below a gradient of 1e-5 relative to the loss, but
  /// would stall a search for 1e-8 or 1e-10, which then runs in `Double` from the start.
  static let singlePrecisionTolerance = 1e-5

  /// Indices of the columns with a non-zero value in some row.
  static func usedColumns(_ features: Matrix) -> [Int] {
    var used = [Bool](repeating: false, count: features.columns)
    let (rows, columns) = (features.rows, features.columns)
    features.storage.withUnsafeBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      used.withUnsafeMutableBufferPointer { flags in
        guard let flag = flags.baseAddress else { return }
        for r in 0..<rows {
          let row = base + r * columns
          for j in 0..<columns where row[j] != 0 { flag[j] = true }
        }
      }
    }
    return used.indices.filter { used[$0] }
  }

  /// The given columns of every row, in that order.
  static func selectingColumns(_ columns: [Int], of matrix: Matrix) -> Matrix {
    let (rows, width, kept) = (matrix.rows, matrix.columns, columns.count)
    var result = [Double](repeating: 0, count: rows * kept)
    matrix.storage.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        columns.withUnsafeBufferPointer { index in
          guard let s = source.baseAddress, let t = target.baseAddress, let j = index.baseAddress
          else { return }
          for r in 0..<rows {
            let from = s + r * width
            let to = t + r * kept
            for c in 0..<kept { to[c] = from[j[c]] }
          }
        }
      }
    }
    return Matrix(rows: rows, columns: kept, storage: result)
  }

  /// The warm start's rows for `present` classes and `columns`, centred across classes (a common
  /// shift of every class's logit changes no probability and only lowers the penalty).
  static func warmStartRows(
    _ model: LogisticRegression, present: [Int], columns: [Int]
  ) -> (Matrix, [Double]) {
    let row = Dictionary(uniqueKeysWithValues: model.fittedClasses.enumerated().map { ($1, $0) })
    var weights = Matrix(rows: present.count, columns: columns.count)
    var intercepts = [Double](repeating: 0, count: present.count)
    for (k, label) in present.enumerated() {
      guard let source = row[label] else { continue }
      for (compact, column) in columns.enumerated() {
        weights[k, compact] = model.weights[source, column]
      }
      intercepts[k] = model.intercepts[source]
    }
    let scale = 1 / Double(present.count)
    var meanRow = [Double](repeating: 0, count: columns.count)
    Matrix.multiply(
      weights, transposeA: true, vector: [Double](repeating: scale, count: present.count),
      into: &meanRow)
    weights.addOuterProduct([Double](repeating: 1, count: present.count), meanRow, scaledBy: -1)
    let meanIntercept = intercepts.reduce(0, +) * scale
    return (weights, intercepts.map { $0 - meanIntercept })
  }
}

/// `C · Σᵢ CE(yᵢ, softmax(W xᵢ + b)) + ½‖W‖²_F` and its gradient, in the centred coordinates
/// θ = (W, b' = b + Wμ) (row-major W, then b'; no b' without intercepts).
///
/// Holds the scratch matrices of one fit, so an evaluation allocates nothing large.
final class SoftmaxObjective {
  /// X, `[rowCount, columnCount]`; `nil` for an objective built from sparse rows alone
  /// (`init(sparseRows:...)`), which always multiplies sparsely.
  let dense: Matrix?
  /// Rows n and columns d of X.
  let rowCount: Int
  let columnCount: Int
  let labels: [Int]
  let classCount: Int
  let c: Double
  let fitIntercept: Bool
  /// Column means μ (zeros without intercepts: centring needs a free intercept to absorb Wμ).
  let means: [Double]

  /// Each row's weight in the loss (`nil`: 1 each, the unweighted code path), and their sum,
  /// the number of rows the weighted problem stands for (`rowCount` without weights).
  let sampleWeights: [Double]?
  let weightSum: Double

  /// The features by rows and by columns, when at most `sparseDensity` of them are non-zero.
  let sparseFeatures: (rows: SparseRows, columns: SparseRows)?

  private var weights: Matrix
  private var intercepts: [Double]
  /// Z, then P − Y: `[n, classes]`.
  private var logits: Matrix
  private var weightGradient: Matrix
  private var interceptGradient: [Double]
  /// log Σₖ exp(zᵢₖ − maxₖ zᵢₖ) of each sample.
  private var logSums: [Double]
  /// For the sparse products, rows of `lanes` values (classes, padded with zeros to an even
  /// count for whole SIMD loads): Wᵀ `[features, lanes]`, then (P − Y)ᵀ X; and Z, then P − Y,
  /// `[n, lanes]`.
  private let lanes: Int
  private var paddedFeatureRows: [Double]
  private var paddedSampleRows: [Double]
  /// The same two padded buffers in `Float`, for the single-precision products.
  private var singleFeatureRows: [Float]
  private var singleSampleRows: [Float]
  /// zᵢₖ − maxₖ zᵢₖ, then its exponential, `[n, classes]`; and each row's sum, then its
  /// logarithm, `[n]`: the softmax of the single-precision phase (note 7).
  private var singleExponentials: [Float]
  private var singleSums: [Float]

  /// Whether the sparse products run in `Float` (see note 6), and the softmax's exponentials
  /// and logarithms too (note 7); the rest of the softmax, the loss and the gradient's assembly
  /// stay in `Double`. No effect on the dense path.
  var singlePrecisionProducts = false

  /// The largest fraction of non-zero values for which the sparse products are used. Measured
  /// on the anchor digits (10 classes, 1000 × 612 used columns, density 0.25, one thread): a
  /// fit takes 21 ms with sparse products and 50 ms with the GEMMs, of which ~7 ms is neither,
  /// so a sparse multiply-add costs ~1.35 times a GEMM one and the two break even near density
  /// 0.7; 0.4 leaves room for class counts and shapes where the GEMMs do better.
  static let sparseDensity = 0.4

  convenience init(features: Matrix, labels: [Int], classCount: Int, c: Double, fitIntercept: Bool)
  {
    self.init(
      features: features, labels: labels, classCount: classCount, c: c,
      fitIntercept: fitIntercept, sparse: nil)
  }

  /// - Parameters:
  ///   - sparse: Whether to multiply sparsely; `nil` decides from the density.
  ///   - sampleWeights: A positive weight per row, `C · Σᵢ wᵢ CE(yᵢ, pᵢ) + ½‖W‖²`: a row of
  ///     weight m is m copies of it (a bootstrap bag's unique rows with their multiplicities).
  convenience init(
    features: Matrix, labels: [Int], classCount: Int, c: Double, fitIntercept: Bool, sparse: Bool?,
    sampleWeights: [Double]? = nil
  ) {
    let (n, d) = (features.rows, features.columns)
    precondition(sampleWeights.map { $0.count == n } ?? true, "one sample weight per row")
    let weightSum = sampleWeights.map { $0.reduce(0, +) } ?? Double(n)
    var means = [Double](repeating: 0, count: d)
    if fitIntercept {
      // μ = Σᵢ wᵢ xᵢ / Σᵢ wᵢ: the mean of the rows the weights stand for.
      let scaled =
        sampleWeights.map { $0.map { $0 / weightSum } }
        ?? [Double](repeating: 1 / Double(n), count: n)
      Matrix.multiply(features, transposeA: true, vector: scaled, into: &means)
    }
    let rows = SparseRows(features)
    let useSparse =
      sparse ?? (Double(rows.values.count) <= Self.sparseDensity * Double(max(n * d, 1)))
    self.init(
      dense: features, rowCount: n, columnCount: d,
      sparse: useSparse ? (rows, rows.transposed(columns: d)) : nil, labels: labels,
      classCount: classCount, c: c, fitIntercept: fitIntercept, means: means,
      sampleWeights: sampleWeights, weightSum: weightSum)
  }

  /// The objective on X given by its sparse rows alone, `columns` wide (`SparseRows.selecting`).
  /// The means are taken over the non-zeros, in row order.
  convenience init(
    sparseRows rows: SparseRows, columns d: Int, labels: [Int], classCount: Int, c: Double,
    fitIntercept: Bool, sampleWeights: [Double]? = nil
  ) {
    let n = rows.rows
    precondition(sampleWeights.map { $0.count == n } ?? true, "one sample weight per row")
    let weightSum = sampleWeights.map { $0.reduce(0, +) } ?? Double(n)
    var means = [Double](repeating: 0, count: d)
    if fitIntercept {
      for i in 0..<n {
        let scale = (sampleWeights?[i] ?? 1) / weightSum
        for p in rows.starts[i]..<rows.starts[i + 1] {
          means[Int(rows.columns[p])] += scale * rows.values[p]
        }
      }
    }
    self.init(
      dense: nil, rowCount: n, columnCount: d, sparse: (rows, rows.transposed(columns: d)),
      labels: labels, classCount: classCount, c: c, fitIntercept: fitIntercept, means: means,
      sampleWeights: sampleWeights, weightSum: weightSum)
  }

  private init(
    dense: Matrix?, rowCount n: Int, columnCount d: Int,
    sparse: (rows: SparseRows, columns: SparseRows)?, labels: [Int], classCount: Int, c: Double,
    fitIntercept: Bool, means: [Double], sampleWeights: [Double]?, weightSum: Double
  ) {
    precondition(dense != nil || sparse != nil, "an objective needs X, dense or sparse")
    self.dense = dense
    rowCount = n
    columnCount = d
    self.labels = labels
    self.classCount = classCount
    self.c = c
    self.fitIntercept = fitIntercept
    self.sampleWeights = sampleWeights
    self.weightSum = weightSum
    self.means = means
    sparseFeatures = sparse
    let useSparse = sparse != nil
    weights = Matrix(rows: classCount, columns: d)
    intercepts = [Double](repeating: 0, count: classCount)
    logits = Matrix(rows: n, columns: classCount)
    weightGradient = Matrix(rows: classCount, columns: d)
    interceptGradient = [Double](repeating: 0, count: classCount)
    logSums = [Double](repeating: 0, count: n)
    lanes = SparseRows.lanes(for: classCount)
    paddedFeatureRows = [Double](repeating: 0, count: useSparse ? d * lanes : 0)
    paddedSampleRows = [Double](repeating: 0, count: useSparse ? n * lanes : 0)
    singleFeatureRows = [Float](repeating: 0, count: useSparse ? d * lanes : 0)
    singleSampleRows = [Float](repeating: 0, count: useSparse ? n * lanes : 0)
    singleExponentials = [Float](repeating: 0, count: useSparse ? n * classCount : 0)
    singleSums = [Float](repeating: 0, count: useSparse ? n : 0)
  }

  /// Length of θ.
  var parameterCount: Int { classCount * columnCount + (fitIntercept ? classCount : 0) }

  /// θ for the original parameters.
  func parameters(weights w: Matrix, intercepts b: [Double]) -> [Double] {
    guard fitIntercept else { return w.storage }
    var shifted = b
    Matrix.multiply(w, vector: means, beta: 1, into: &shifted)
    return w.storage + shifted
  }

  /// The original W (`[classes, features]`) and b for θ.
  func originalParameters(_ theta: [Double]) -> (Matrix, [Double]) {
    let size = classCount * columnCount
    let w = Matrix(rows: classCount, columns: columnCount, storage: Array(theta[0..<size]))
    guard fitIntercept else { return (w, [Double](repeating: 0, count: classCount)) }
    var b = Array(theta[size...])
    Matrix.multiply(w, vector: means, alpha: -1, beta: 1, into: &b)
    return (w, b)
  }

  /// The objective at θ; writes ∇_θ into `gradient`.
  func evaluate(_ theta: [Double], _ gradient: inout [Double]) -> Double {
    let (n, d, classes) = (rowCount, columnCount, classCount)
    let size = classes * d
    precondition(theta.count == parameterCount && gradient.count == parameterCount)
    theta.withUnsafeBufferPointer { source in
      weights.storage.withUnsafeMutableBufferPointer { target in
        guard let s = source.baseAddress, let t = target.baseAddress else { return }
        t.update(from: s, count: size)
      }
    }
    if fitIntercept {
      for k in 0..<classes { intercepts[k] = theta[size + k] }
      Matrix.multiply(weights, vector: means, alpha: -1, beta: 1, into: &intercepts)
    }
    if let sparseFeatures {
      sparseLogits(sparseFeatures.rows)
    } else if let dense {
      Matrix.multiply(dense, weights, transposeB: true, into: &logits)
    }
    let loss =
      singlePrecisionProducts && sparseFeatures != nil
      ? singlePrecisionSoftmaxInPlace() : softmaxGradientInPlace()

    // ∇_W = C · (P − Y)ᵀ X + W.
    if let sparseFeatures {
      sparseWeightGradient(sparseFeatures.columns)
    } else {
      // The GEMM adds to a copy of W (beta = 1).
      weights.storage.withUnsafeBufferPointer { source in
        weightGradient.storage.withUnsafeMutableBufferPointer { target in
          guard let s = source.baseAddress, let t = target.baseAddress else { return }
          t.update(from: s, count: size)
        }
      }
      if let dense {
        Matrix.multiply(logits, transposeA: true, dense, alpha: c, beta: 1, into: &weightGradient)
      }
    }
    var penalty = 0.0
    weights.storage.withUnsafeBufferPointer { w in
      guard let base = w.baseAddress else { return }
      for i in 0..<size { penalty += base[i] * base[i] }
    }
    if fitIntercept {
      logits.storage.withUnsafeBufferPointer { g in
        interceptGradient.withUnsafeMutableBufferPointer { sums in
          guard let base = g.baseAddress, let sums = sums.baseAddress else { return }
          sums.update(repeating: 0, count: classes)
          for i in 0..<n {
            let row = base + i * classes
            for k in 0..<classes { sums[k] += row[k] }
          }
          for k in 0..<classes { sums[k] *= c }
        }
      }
      // Centred coordinates: ∇_W' = ∇_W − ∇_b μᵀ, ∇_b' = ∇_b.
      weightGradient.addOuterProduct(interceptGradient, means, scaledBy: -1)
    }
    weightGradient.storage.withUnsafeBufferPointer { source in
      gradient.withUnsafeMutableBufferPointer { target in
        guard let s = source.baseAddress, let t = target.baseAddress else { return }
        t.update(from: s, count: size)
      }
    }
    if fitIntercept {
      for k in 0..<classes { gradient[size + k] = interceptGradient[k] }
    }
    return c * loss + 0.5 * penalty
  }

  /// Turns `logits` (X Wᵀ, `[n, classes]`) into P − Y in place, adding the intercepts first, and
  /// returns Σᵢ CE(yᵢ, pᵢ) = Σᵢ (log Σₖ exp zᵢₖ − z_{i yᵢ}).
  private func softmaxGradientInPlace() -> Double {
    let (n, classes) = (rowCount, classCount)
    var loss = 0.0
    logits.storage.withUnsafeMutableBufferPointer { zBuffer in
      labels.withUnsafeBufferPointer { yBuffer in
        intercepts.withUnsafeBufferPointer { bBuffer in
          logSums.withUnsafeMutableBufferPointer { lBuffer in
            guard let z = zBuffer.baseAddress, let y = yBuffer.baseAddress,
              let b = bBuffer.baseAddress, let logSums = lBuffer.baseAddress
            else { return }
            for i in 0..<n {
              let row = z + i * classes
              let largest = Self.addIntercepts(b, to: row, classes: classes)
              if let w = sampleWeights {
                loss += w[i] * (largest - row[y[i]])
              } else {
                loss += largest - row[y[i]]
              }
              var sum = 0.0
              for k in 0..<classes {
                let e = exp(row[k] - largest)
                row[k] = e
                sum += e
              }
              logSums[i] = log(sum)
              let scale = 1 / sum
              for k in 0..<classes { row[k] *= scale }
              row[y[i]] -= 1
              // Weighted rows: wᵢ CE(yᵢ, pᵢ) and wᵢ (pᵢ − yᵢ), so every product after this one
              // (∇_W, ∇_b) carries the weights.
              if let w = sampleWeights {
                logSums[i] *= w[i]
                for k in 0..<classes { row[k] *= w[i] }
              }
            }
            // The logarithms are added after all the margins, in sample order, as before the
            // layout changed: near the optimum L-BFGS compares objective values that differ
            // in their last bits, and with the per-sample order one fixture fit at
            // tol = 1e-10 (logistic_toy, C = 0.05) ended in a failed line search instead of
            // stopping on the relative reduction.
            for i in 0..<n { loss += logSums[i] }
          }
        }
      }
    }
    return loss
  }

  /// Adds the intercepts `b` to a row of logits and returns the row's largest value.
  @inline(__always)
  private static func addIntercepts(
    _ b: UnsafePointer<Double>, to row: UnsafeMutablePointer<Double>, classes: Int
  ) -> Double {
    for k in 0..<classes { row[k] += b[k] }
    var largest = row[0]
    for k in 1..<classes where row[k] > largest { largest = row[k] }
    return largest
  }

  /// `softmaxGradientInPlace()` with the exponentials and logarithms in `Float`, eight at a
  /// time (`glimpse_exp_f32`, `glimpse_log_f32`; within 2 ulp of Float): the logits come from
  /// Float products already, so this adds error of the same size (note 7).
  private func singlePrecisionSoftmaxInPlace() -> Double {
    let (n, classes) = (rowCount, classCount)
    var loss = 0.0
    logits.storage.withUnsafeMutableBufferPointer { zBuffer in
      labels.withUnsafeBufferPointer { yBuffer in
        intercepts.withUnsafeBufferPointer { bBuffer in
          singleExponentials.withUnsafeMutableBufferPointer { eBuffer in
            singleSums.withUnsafeMutableBufferPointer { sBuffer in
              guard let z = zBuffer.baseAddress, let y = yBuffer.baseAddress,
                let b = bBuffer.baseAddress, let e = eBuffer.baseAddress,
                let sums = sBuffer.baseAddress
              else { return }
              for i in 0..<n {
                let row = z + i * classes
                let largest = Self.addIntercepts(b, to: row, classes: classes)
                loss += (sampleWeights?[i] ?? 1) * (largest - row[y[i]])
                for k in 0..<classes { e[i * classes + k] = Float(row[k] - largest) }
              }
              glimpse_exp_f32(e, n * classes, KernelVariant.current)
              for i in 0..<n {
                let row = z + i * classes
                var sum = 0.0
                for k in 0..<classes { sum += Double(e[i * classes + k]) }
                sums[i] = Float(sum)
                let scale = 1 / sum
                for k in 0..<classes { row[k] = Double(e[i * classes + k]) * scale }
                row[y[i]] -= 1
                if let w = sampleWeights {
                  for k in 0..<classes { row[k] *= w[i] }
                }
              }
              glimpse_log_f32(sums, n, KernelVariant.current)
              // The logarithms after all the margins, in sample order, as in Double.
              for i in 0..<n { loss += (sampleWeights?[i] ?? 1) * Double(sums[i]) }
            }
          }
        }
      }
    }
    return loss
  }

  /// `logits = X Wᵀ` from the rows of X: row i sums x_ij · W[:, j] over its non-zeros.
  private func sparseLogits(_ x: SparseRows) {
    if singlePrecisionProducts {
      sparseLogits(x, featureRows: &singleFeatureRows, sampleRows: &singleSampleRows)
    } else {
      sparseLogits(x, featureRows: &paddedFeatureRows, sampleRows: &paddedSampleRows)
    }
  }

  /// `sparseLogits` with the products in `S`: Wᵀ padded into `featureRows`, Z into
  /// `sampleRows`.
  private func sparseLogits<S: SparseScalar>(
    _ x: SparseRows, featureRows: inout [S], sampleRows: inout [S]
  ) {
    let (n, d, classes, lanes) = (rowCount, columnCount, classCount, lanes)
    weights.storage.withUnsafeBufferPointer { wBuffer in
      featureRows.withUnsafeMutableBufferPointer { tBuffer in
        sampleRows.withUnsafeMutableBufferPointer { zBuffer in
          logits.storage.withUnsafeMutableBufferPointer { lBuffer in
            guard let w = wBuffer.baseAddress, let wt = tBuffer.baseAddress,
              let z = zBuffer.baseAddress, let logits = lBuffer.baseAddress
            else { return }
            // Wᵀ, so that W[:, j] is a contiguous run (its padding stays 0).
            for k in 0..<classes {
              for j in 0..<d { wt[j * lanes + k] = S(w[k * d + j]) }
            }
            x.multiply(wt, lanes: lanes, into: z)
            for i in 0..<n {
              for k in 0..<classes { logits[i * classes + k] = Double(z[i * lanes + k]) }
            }
          }
        }
      }
    }
  }

  /// `weightGradient = C · (P − Y)ᵀ X + W`, with `logits` holding P − Y, from the columns of X
  /// (`xt`, the rows of Xᵀ): column j sums x_ij · (P − Y)[i, :] over its non-zeros.
  private func sparseWeightGradient(_ xt: SparseRows) {
    if singlePrecisionProducts {
      sparseWeightGradient(xt, featureRows: &singleFeatureRows, sampleRows: &singleSampleRows)
    } else {
      sparseWeightGradient(xt, featureRows: &paddedFeatureRows, sampleRows: &paddedSampleRows)
    }
  }

  /// `sparseWeightGradient` with the products in `S`: P − Y padded into `sampleRows`, the
  /// product into `featureRows`.
  private func sparseWeightGradient<S: SparseScalar>(
    _ xt: SparseRows, featureRows: inout [S], sampleRows: inout [S]
  ) {
    let (n, d, classes, lanes) = (rowCount, columnCount, classCount, lanes)
    let c = c
    logits.storage.withUnsafeBufferPointer { lBuffer in
      sampleRows.withUnsafeMutableBufferPointer { gBuffer in
        featureRows.withUnsafeMutableBufferPointer { tBuffer in
          weights.storage.withUnsafeBufferPointer { wBuffer in
            weightGradient.storage.withUnsafeMutableBufferPointer { dBuffer in
              guard let logits = lBuffer.baseAddress, let g = gBuffer.baseAddress,
                let t = tBuffer.baseAddress, let w = wBuffer.baseAddress,
                let dw = dBuffer.baseAddress
              else { return }
              // P − Y in padded rows. Padding lanes are 0 in both padded buffers and stay 0:
              // a sparse product of rows whose padding is 0 has padding 0.
              for i in 0..<n {
                for k in 0..<classes { g[i * lanes + k] = S(logits[i * classes + k]) }
              }
              xt.multiply(g, lanes: lanes, into: t)
              for k in 0..<classes {
                for j in 0..<d { dw[k * d + j] = c * Double(t[j * lanes + k]) + w[k * d + j] }
              }
            }
          }
        }
      }
    }
  }

  /// max |∂f/∂(W, b)| / (C·n): the gradient scikit-learn's L-BFGS-B tests against `tol`, of its
  /// objective (mean loss + ½‖W‖²/(C·n)) with respect to the original W and b, from ∇_θ.
  func scaledGradientSize(_ theta: [Double], _ gradient: [Double]) -> Double {
    let (d, classes) = (columnCount, classCount)
    let size = classes * d
    var largest = 0.0
    gradient.withUnsafeBufferPointer { g in
      means.withUnsafeBufferPointer { m in
        guard let g = g.baseAddress, let mu = m.baseAddress else { return }
        for k in 0..<classes {
          let row = g + k * d
          // ∇_W = ∇_W' + ∇_b μᵀ.
          let gb = fitIntercept ? g[size + k] : 0
          for j in 0..<d { largest = max(largest, abs(row[j] + gb * mu[j])) }
          largest = max(largest, abs(gb))
        }
      }
    }
    // With weights the problem stands for Σᵢ wᵢ rows (`weightSum`, `rowCount` without).
    return largest / (c * weightSum)
  }
}

import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

/// Multinomial logistic regression with an L2 penalty, fitted by L-BFGS.
///
/// Mirrors scikit-learn's `LogisticRegression(C=1.0, solver="lbfgs")` (version 1.9): `C`,
/// `fit_intercept`, `tol`, `max_iter` and the L-BFGS memory (scipy's `maxcor`, 10). The fitted
/// model minimises
///
///     C · Σᵢ CE(yᵢ, softmax(W xᵢ + b)) + ½‖W‖²_F,
///
/// the cross-entropy of the softmax over the classes present in the training rows plus a
/// penalty on the weights `W` (`[classes, features]`) but not on the intercepts `b`. This is
/// scikit-learn's objective times `C · n` (it minimises the mean loss plus ½‖W‖²/(C·n)), so the
/// minimiser is the same and `tolerance` keeps scikit-learn's meaning: fitting stops when the
/// largest absolute component of the gradient of scikit-learn's scaling, with respect to `W`
/// and `b`, is at most `tolerance` (scipy L-BFGS-B's `pgtol`), when the objective stops
/// decreasing (relative reduction ≤ 64 ε, scipy's `ftol`), or after `maxIterations` steps.
///
/// **Two classes.** scikit-learn fits one binomial vector v for two classes (`coef_` is
/// `[1, features]`), not the softmax. Both give the same probabilities at the optimum once C is
/// matched: with the penalty on both rows of a 2-row W, the optimum is antisymmetric
/// (w₀ = −w₁, since the loss gradients of the two rows are opposite and the penalty pulls each
/// row to minus its loss gradient), so v = w₁ − w₀ = 2w₁ and ½(‖w₀‖² + ‖w₁‖²) = ¼‖v‖²: the
/// 2-class softmax with C is the binomial model with 2C. Glimpse therefore fits two present
/// classes with the softmax at C/2, which is scikit-learn's binomial problem at C exactly (up
/// to a factor ½ of the objective, so its stopping rule is also scikit-learn's): probabilities,
/// `weights.row(1) − weights.row(0)` (= `coef_`) and `intercepts[1] − intercepts[0]`
/// (= `intercept_`) agree with scikit-learn's.
///
/// **Absent classes.** A subset of a dataset can lack some of `classNames`. Those classes are
/// left out of the fit (their unpenalised intercepts would run off to −∞) and get probability 0;
/// `fittedClasses` lists the others. With a single class present every row gets it with
/// probability 1: data valuation fits thousands of small subsets and needs an answer, not an
/// error.
///
/// Intercepts are shifted to sum to 0 (softmax is unchanged by a common shift), which is what
/// scikit-learn's L-BFGS reaches from its zero start. Fitting is deterministic; the generator
/// passed to `fit` is not used.
///
/// Nocedal & Wright, "Numerical Optimization", 2nd ed., 2006, Alg. 7.4 and 3.5–3.6 (the solver,
/// in `LBFGS.swift`); Bishop, "Pattern Recognition and Machine Learning", 2006, §4.3.4 (the
/// multiclass logistic model and its gradient, eq. 4.109).
public struct LogisticRegression: Classifier {
  /// Settings chosen before seeing data; defaults are scikit-learn's.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// Inverse strength of the L2 penalty (scikit-learn's `C`, > 0).
    public var c: Double
    /// Whether to fit unpenalised intercepts (scikit-learn's `fit_intercept`).
    public var fitIntercept: Bool
    /// Largest allowed max-abs gradient of scikit-learn's scaled objective (`tol`, ≥ 0).
    public var tolerance: Double
    /// L-BFGS iteration limit (`max_iter`, ≥ 0).
    public var maxIterations: Int
    /// Number of correction pairs L-BFGS keeps (scipy's `maxcor`, ≥ 1).
    public var memory: Int

    /// scikit-learn's defaults unless given.
    public init(
      c: Double = 1, fitIntercept: Bool = true, tolerance: Double = 1e-4,
      maxIterations: Int = 1000, memory: Int = 10
    ) {
      self.c = c
      self.fitIntercept = fitIntercept
      self.tolerance = tolerance
      self.maxIterations = maxIterations
      self.memory = memory
    }

    /// Refuses values outside the documented ranges.
    func validate() throws(ModelError) {
      guard c > 0, c.isFinite else {
        throw .invalidHyperparameter(name: "C", value: "\(c)", expected: "a finite number > 0")
      }
      guard tolerance >= 0, tolerance.isFinite else {
        throw .invalidHyperparameter(
          name: "tol", value: "\(tolerance)", expected: "a finite number ≥ 0")
      }
      guard maxIterations >= 0 else {
        throw .invalidHyperparameter(
          name: "max_iter", value: "\(maxIterations)", expected: "an integer ≥ 0")
      }
      guard memory >= 1 else {
        throw .invalidHyperparameter(name: "memory", value: "\(memory)", expected: "an integer ≥ 1")
      }
    }
  }

  /// The model kind written in model files.
  public static let kind = "logistic"
  /// The settings the model was trained with.
  public let hyperparameters: Hyperparameters
  /// Class names, in label order (a probability column per class).
  public let classNames: [String]
  /// Values per input row (pixels × channels for images).
  public let featureCount: Int
  /// The classes that had training rows, ascending indices into `classNames`; the others
  /// get probability 0.
  public let fittedClasses: [Int]
  /// One row of weights per fitted class, `[fittedClasses.count, featureCount]`.
  public let weights: Matrix
  /// One intercept per fitted class, `[fittedClasses.count]`, summing to 0.
  public let intercepts: [Double]
  /// L-BFGS iterations the fit took (scikit-learn's `n_iter_`); 0 when it started at a solution.
  public let iterations: Int
  /// Whether the fit met `tolerance` or stopped decreasing, rather than hitting the iteration
  /// limit or failing a line search (scikit-learn warns `ConvergenceWarning` in those cases).
  public let converged: Bool

  /// A model from its parts (for `init(archive:)` and the fitting code).
  init(
    hyperparameters: Hyperparameters, classNames: [String], featureCount: Int,
    fittedClasses: [Int], weights: Matrix, intercepts: [Double], iterations: Int,
    converged: Bool
  ) {
    precondition(
      weights.rows == fittedClasses.count && weights.columns == featureCount,
      "weights are \(weights.rows)×\(weights.columns), expected \(fittedClasses.count)×\(featureCount)"
    )
    precondition(
      intercepts.count == fittedClasses.count,
      "intercepts.count (\(intercepts.count)) != fittedClasses.count (\(fittedClasses.count))")
    self.hyperparameters = hyperparameters
    self.classNames = classNames
    self.featureCount = featureCount
    self.fittedClasses = fittedClasses
    self.weights = weights
    self.intercepts = intercepts
    self.iterations = iterations
    self.converged = converged
  }

  /// Fits by L-BFGS on the regularised multinomial log-loss (see the type's notes), reporting
  /// progress in [0, 1].
  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> LogisticRegression {
    try fit(data, hyperparameters: hyperparameters, warmStart: nil, progress: progress)
  }

  /// Trains a new model, starting L-BFGS from another model's solution.
  ///
  /// A warm start changes where the solver begins, not the problem, so the result is the same
  /// optimum (to `tolerance`) in fewer iterations when the start is close, e.g. a fit on all
  /// training rows when refitting on most of them, as data valuation does thousands of times
  /// (scikit-learn's `warm_start=True`). The start's rows for the classes present in `data` are
  /// centred across classes first, which keeps every probability it gives and lowers the
  /// penalty; a present class the start never saw begins at zero.
  ///
  /// - Parameters:
  ///   - warmStart: A model with the same `classNames` and `featureCount`, or `nil` to start at
  ///     zero (scikit-learn's default).
  ///   - progress: Called with the fraction done, estimated from the gradient's decrease.
  /// - Throws: `ModelError.unsuitableData` for a dataset without rows,
  ///   `.invalidHyperparameter` for a hyperparameter out of range or a mismatched warm start.
  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters, warmStart: LogisticRegression?,
    progress: (Double) -> Void = { _ in }
  ) throws(ModelError) -> LogisticRegression {
    guard data.count > 0 else { throw .unsuitableData("the dataset has no rows") }
    try hyperparameters.validate()
    try checkWarmStart(warmStart, for: data)
    let model = fitPresentClasses(
      data, hyperparameters: hyperparameters, warmStart: warmStart, progress: progress)
    progress(1)
    return model
  }

  /// Refuses a warm start whose features or classes differ from `data`'s.
  static func checkWarmStart(_ warmStart: LogisticRegression?, for data: Dataset)
    throws(ModelError)
  {
    if let warmStart {
      guard warmStart.featureCount == data.featureCount, warmStart.classNames == data.classNames
      else {
        throw .invalidHyperparameter(
          name: "warmStart",
          value:
            "a model of \(warmStart.featureCount) features and classes \(warmStart.classNames)",
          expected: "\(data.featureCount) features and classes \(data.classNames)")
      }
    }
  }

  /// Class probabilities: one GEMM for all rows, then a softmax per row.
  ///
  /// - Parameter features: `[rows, featureCount]`.
  /// - Returns: `[rows, classNames.count]`; classes without training rows get 0.
  public func predictProbabilities(_ features: Matrix) -> Matrix {
    precondition(
      features.columns == featureCount,
      "features have \(features.columns) columns, the model \(featureCount)")
    let fitted = fittedClasses.count
    var logits = Matrix(rows: features.rows, columns: fitted)
    // Start from the intercepts so the GEMM adds W x to them (beta = 1).
    for row in 0..<features.rows {
      logits.storage.replaceSubrange(row * fitted..<(row + 1) * fitted, with: intercepts)
    }
    Matrix.multiply(features, weights, transposeB: true, beta: 1, into: &logits)
    Self.softmaxRows(&logits)
    guard fitted < classNames.count else { return logits }
    var probabilities = Matrix(rows: features.rows, columns: classNames.count)
    for row in 0..<features.rows {
      for (position, target) in fittedClasses.enumerated() {
        probabilities[row, target] = logits[row, position]
      }
    }
    return probabilities
  }

  /// Replaces each row by its softmax, subtracting the row maximum first so `exp` cannot
  /// overflow.
  static func softmaxRows(_ matrix: inout Matrix) {
    let columns = matrix.columns
    guard columns > 0 else { return }
    let rows = matrix.rows
    matrix.storage.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      for r in 0..<rows {
        let row = base + r * columns
        var largest = row[0]
        for k in 1..<columns where row[k] > largest { largest = row[k] }
        var sum = 0.0
        for k in 0..<columns {
          let e = exp(row[k] - largest)
          row[k] = e
          sum += e
        }
        let scale = 1 / sum
        for k in 0..<columns { row[k] *= scale }
      }
    }
  }
}

extension LogisticRegression {
  /// Saves `weights` (`[fitted classes, featureCount]`), `intercepts`, the fitted classes
  /// (`classes`, indices into `classNames`) and the iteration count.
  public func archive() -> ModelArchive {
    ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount,
      hyperparameters: hyperparameters,
      scalars: ["iterations": Double(iterations), "converged": converged ? 1 : 0],
      doubles: ["weights": weights.storage, "intercepts": intercepts],
      integers: ["classes": fittedClasses])
  }

  /// Restores a model saved by `archive()`.
  /// - Throws: `ModelError.wrongKind`, or `.corruptModelFile` when arrays are missing, have the
  ///   wrong size, hold non-finite weights or list classes out of order.
  public init(archive: ModelArchive) throws(ModelError) {
    guard archive.kind == Self.kind else {
      throw .wrongKind(found: archive.kind, expected: Self.kind)
    }
    let hyperparameters = try archive.hyperparameters(as: Hyperparameters.self) {
      h throws(ModelError) in try h.validate()
    }
    let classCount = try archive.classCount()
    let classes = try archive.integers("classes", in: 0..<classCount)
    guard !classes.isEmpty, zip(classes, classes.dropFirst()).allSatisfy({ $0 < $1 }) else {
      throw .corruptModelFile(
        "array 'classes' must be increasing indices into the \(classCount) classes")
    }
    let d = archive.featureCount
    let weights = try archive.finiteDoubles(
      "weights", count: ModelArchive.product(classes.count, d, for: "weights"))
    let intercepts = try archive.finiteDoubles("intercepts", count: classes.count)
    let iterations = try archive.integerScalar("iterations", in: 0...Int(Int32.max))
    let converged = try archive.integerScalar("converged", in: 0...1)
    self.init(
      hyperparameters: hyperparameters, classNames: archive.classNames, featureCount: d,
      fittedClasses: classes, weights: Matrix(rows: classes.count, columns: d, storage: weights),
      intercepts: intercepts, iterations: iterations, converged: converged == 1)
  }
}

import GlimpseCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A C-support vector classifier with libsvm's one-vs-one scheme and probability estimates.
///
/// Mirrors scikit-learn's `SVC` (which wraps libsvm): `C`, `kernel` (`rbf` default, `linear`,
/// `poly`), `gamma` (`"scale"` = 1 / (features × Var(X)) by default, `"auto"` = 1 / features, or a
/// number), `degree`, `coef0`, `tol` (1e-3), `shrinking`, `cache_size` (MB), `probability`.
/// Each pair of classes gets a binary SVM trained by SMO with second-order working-set
/// selection and shrinking (`SMOSolver`). `predict(_:)` is libsvm's majority vote over the pairs
/// (ties to the lower class index), as `SVC.predict`; `predictProbabilities(_:)` calibrates each
/// pair with a Platt sigmoid fitted on 5-fold cross-validated decision values and couples the
/// pairs (Wu, Lin & Weng 2004, method 2), as `SVC.predict_proba`. The two can disagree on a few
/// rows (16 of 1000 test digits in the reference run): both are exposed.
///
/// Pairs are trained in parallel on all cores; the cross-validation folds of pair p are drawn
/// from stream p of a generator seeded by the caller's generator, so the model does not depend
/// on the core count. Classes of `classNames` with no training row are never predicted and get
/// probability 0.
public struct SVMClassifier: Classifier {
  /// How γ is chosen.
  public enum Gamma: Sendable, Codable, Equatable {
    /// 1 / (features × variance of all training values), scikit-learn's default.
    case scale
    /// 1 / features.
    case auto
    /// A fixed value.
    case value(Double)
  }

  /// The kernel family.
  public enum KernelName: String, Sendable, Codable, CaseIterable {
    case rbf, linear, poly
  }

  /// Settings chosen before seeing data; defaults are scikit-learn's.
  public struct Hyperparameters: Sendable, Codable, Equatable {
    /// The penalty C on the slack (> 0).
    public var c = 1.0
    /// The kernel family.
    public var kernel = KernelName.rbf
    /// γ for the RBF and polynomial kernels.
    public var gamma = Gamma.scale
    /// Degree of the polynomial kernel.
    public var degree = 3
    /// Constant term of the polynomial kernel.
    public var coef0 = 0.0
    /// SMO stopping tolerance ε.
    public var tolerance = 1e-3
    /// Whether SMO shrinks the active set.
    public var shrinking = true
    /// Memory for kernel rows, in megabytes (the whole Gram matrix is used when it fits).
    public var cacheMegabytes = 200
    /// Fit Platt sigmoids on 5-fold cross-validation for `predictProbabilities`.
    public var probability = true

    /// The defaults.
    public init() {}
  }

  public static let kind = "svm"
  /// The largest polynomial degree: the kernel multiplies `degree` times per value, and a file
  /// must not make prediction loop without end.
  public static let maximumDegree = 1000
  public let hyperparameters: Hyperparameters
  public let classNames: [String]
  public let featureCount: Int
  /// The kernel with γ resolved.
  public let kernel: Kernel
  /// Training-set row of each support vector, grouped by class.
  public let supportIndices: [Int]
  /// The support vectors, `[supportCount, featureCount]`.
  public let supportVectors: Matrix
  /// `y_i α_i` of each support vector for each pair, `[supportCount, pairCount]` (0 when the
  /// vector is not in the pair): decision values are one GEMM.
  public let dualCoefficients: Matrix
  /// The offset of each pair's decision function.
  public let rho: [Double]
  /// The class pairs (i < j), in libsvm's order; a positive decision value means class i.
  public let pairs: [ClassPair]
  /// Platt sigmoids per pair (empty when trained without probabilities).
  let sigmoids: [PlattSigmoid]
  private let supportNorms: [Double]
  /// Columns in which some support vector is non-zero, when that is clearly fewer than all:
  /// the other columns add nothing to any x · sv, so prediction leaves them out of the GEMM
  /// (exact; image borders that are black in every digit make ~20 % of MNIST's columns).
  private let usedColumns: [Int]?
  private let compactSupportVectors: Matrix
  /// The support vectors' codes when they are 8-bit pixel levels (k / 255): rows that are
  /// pixels too get their kernel values from an exact float32 GEMM (`PixelCodes`).
  private let pixelSupport: PixelCodes?

  /// Two classes compared by one binary SVM.
  public struct ClassPair: Sendable, Equatable {
    /// The class a positive decision value stands for.
    public var first: Int
    /// The class a negative decision value stands for.
    public var second: Int
  }

  /// The number of support vectors per class.
  public var supportCountsPerClass: [Int] {
    var counts = [Int](repeating: 0, count: classNames.count)
    for index in supportIndices { counts[supportClass(index)] += 1 }
    return counts
  }
  private let classOfSupport: [Int: Int]

  /// The class of the support vector that was training row `index`.
  func supportClass(_ index: Int) -> Int { classOfSupport[index] ?? 0 }

  /// Whether `predictProbabilities` uses fitted sigmoids.
  public var hasProbabilities: Bool { !sigmoids.isEmpty }

  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> SVMClassifier {
    try data.checkTrainable()
    let h = hyperparameters
    guard h.c > 0 else {
      throw .invalidHyperparameter(name: "C", value: "\(h.c)", expected: "a number > 0")
    }
    guard h.tolerance > 0 else {
      throw .invalidHyperparameter(name: "tol", value: "\(h.tolerance)", expected: "a number > 0")
    }
    // Built once: for 8-bit rows every `data.features` makes a new `Double` matrix.
    let features = data.features
    let kernel = try resolveKernel(h, features: features)
    let source = KernelSource(
      kernel: kernel, features: features, gramBytes: max(h.cacheMegabytes, 32) << 20)
    let classCount = data.classNames.count
    var members = [[Int]](repeating: [], count: classCount)
    for (row, label) in data.labels.enumerated() { members[label].append(row) }
    let present = (0..<classCount).filter { !members[$0].isEmpty }
    var pairs: [ClassPair] = []
    for (position, i) in present.enumerated() {
      for j in present[(position + 1)...] { pairs.append(ClassPair(first: i, second: j)) }
    }
    let root = SeededGenerator(seed: rng.next())
    let cacheBytes = max(h.cacheMegabytes, 1) << 20 / max(1, min(pairs.count, 2))
    let done = Mutex(0)
    let trained = withoutActuallyEscaping(progress) { progress in
      let progressBox = UncheckedSendable(progress)
      return parallelMap(pairs.count) { index -> TrainedPair in
      let pair = pairs[index]
      let rows = members[pair.first] + members[pair.second]
      let labels = members[pair.first].map { _ in 1.0 } + members[pair.second].map { _ in -1.0 }
      var generator = root.stream(UInt64(index))
      let sigmoid = h.probability
        ? crossValidatedSigmoid(
          rows: rows, labels: labels, source: source, hyperparameters: h, cacheBytes: cacheBytes,
          using: &generator) : nil
      var solver = SMOSolver(
        kernel: KernelRows(members: rows, source: source, cacheBytes: cacheBytes), labels: labels,
        c: h.c, epsilon: h.tolerance, shrinking: h.shrinking)
      let solution = solver.solve()
      done.withLock { count in
        count += 1
        progressBox.value(Double(count) / Double(pairs.count))
      }
      return TrainedPair(rows: rows, labels: labels, solution: solution, sigmoid: sigmoid)
      }
    }

    // Support vectors: every row with α > 0 in some pair, grouped by class as libsvm stores them.
    var isSupport = [Bool](repeating: false, count: data.count)
    for pair in trained {
      for (position, row) in pair.rows.enumerated() where pair.solution.alpha[position] > 0 {
        isSupport[row] = true
      }
    }
    let supportIndices = members.flatMap { $0.filter { isSupport[$0] } }
    let supportPosition = Dictionary(
      uniqueKeysWithValues: supportIndices.enumerated().map { ($1, $0) })
    var coefficients = Matrix(rows: supportIndices.count, columns: pairs.count)
    for (p, pair) in trained.enumerated() {
      for (position, row) in pair.rows.enumerated() where pair.solution.alpha[position] > 0 {
        coefficients[supportPosition[row]!, p] = pair.labels[position] * pair.solution.alpha[position]
      }
    }
    let supportVectors = features.selectingRows(supportIndices)
    return SVMClassifier(
      hyperparameters: h, classNames: data.classNames, featureCount: data.featureCount,
      kernel: kernel, supportIndices: supportIndices, supportVectors: supportVectors,
      dualCoefficients: coefficients, rho: trained.map(\.solution.rho), pairs: pairs,
      sigmoids: h.probability ? trained.compactMap { $0.sigmoid } : [],
      classOfSupport: Dictionary(uniqueKeysWithValues: supportIndices.map { ($0, data.labels[$0]) }))
  }

  init(
    hyperparameters: Hyperparameters, classNames: [String], featureCount: Int, kernel: Kernel,
    supportIndices: [Int], supportVectors: Matrix, dualCoefficients: Matrix, rho: [Double],
    pairs: [ClassPair], sigmoids: [PlattSigmoid], classOfSupport: [Int: Int]
  ) {
    self.hyperparameters = hyperparameters
    self.classNames = classNames
    self.featureCount = featureCount
    self.kernel = kernel
    self.supportIndices = supportIndices
    self.supportVectors = supportVectors
    self.dualCoefficients = dualCoefficients
    self.rho = rho
    self.pairs = pairs
    self.sigmoids = sigmoids
    self.classOfSupport = classOfSupport
    supportNorms = supportVectors.rowSquaredNorms()
    let used = (0..<featureCount).filter { column in
      (0..<supportVectors.rows).contains { supportVectors[$0, column] != 0 }
    }
    if used.count < featureCount * 9 / 10 {
      usedColumns = used
      compactSupportVectors = Matrix(rows: supportVectors.rows, columns: used.count) {
        supportVectors[$0, used[$1]]
      }
    } else {
      usedColumns = nil
      compactSupportVectors = supportVectors
    }
    pixelSupport = PixelCodes(supportVectors, columns: usedColumns)
  }

  /// γ resolved from the hyperparameters and the training features.
  static func resolveKernel(_ h: Hyperparameters, features: Matrix) throws(ModelError) -> Kernel {
    let gamma: Double
    switch h.gamma {
    case .value(let value):
      guard value > 0 else {
        throw .invalidHyperparameter(name: "gamma", value: "\(value)", expected: "a number > 0")
      }
      gamma = value
    case .auto:
      gamma = 1 / Double(max(features.columns, 1))
    case .scale:
      // scikit-learn: 1 / (n_features · X.var()), with 1 when the variance is 0.
      let count = Double(features.storage.count)
      let mean = features.storage.reduce(0, +) / count
      let variance = features.storage.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count
      gamma = variance > 0 ? 1 / (Double(features.columns) * variance) : 1
    }
    switch h.kernel {
    case .rbf: return .rbf(gamma: gamma)
    case .linear: return .linear
    case .poly:
      guard (1...maximumDegree).contains(h.degree) else {
        throw .invalidHyperparameter(
          name: "degree", value: "\(h.degree)", expected: "an integer in 1...\(maximumDegree)")
      }
      return .polynomial(gamma: gamma, coef0: h.coef0, degree: h.degree)
    }
  }

  /// libsvm's `svm_binary_svc_probability`: decision values of each row from an SVM trained on
  /// the other four folds of a random 5-fold split, then a Platt sigmoid fitted to them.
  static func crossValidatedSigmoid(
    rows: [Int], labels: [Double], source: KernelSource, hyperparameters h: Hyperparameters,
    cacheBytes: Int, using generator: inout SeededGenerator
  ) -> PlattSigmoid {
    let l = rows.count, folds = 5
    let permutation = Array(0..<l).shuffled(using: &generator)
    var decisionValues = [Double](repeating: 0, count: l)
    for fold in 0..<folds {
      let begin = fold * l / folds, end = (fold + 1) * l / folds
      let heldOut = Array(permutation[begin..<end])
      let training = Array(permutation[..<begin] + permutation[end...])
      let positives = training.filter { labels[$0] > 0 }.count
      let negatives = training.count - positives
      if positives == 0 || negatives == 0 {
        // One class only: libsvm assigns ±1 (0 when the fold is empty).
        let value: Double = positives > 0 ? 1 : (negatives > 0 ? -1 : 0)
        for position in heldOut { decisionValues[position] = value }
        continue
      }
      var solver = SMOSolver(
        kernel: KernelRows(members: training.map { rows[$0] }, source: source, cacheBytes: cacheBytes),
        labels: training.map { labels[$0] }, c: h.c, epsilon: h.tolerance, shrinking: h.shrinking)
      let solution = solver.solve()
      let support = training.indices.filter { solution.alpha[$0] > 0 }
      let block = source.block(rows: heldOut.map { rows[$0] }, columns: support.map { rows[training[$0]] })
      for (row, position) in heldOut.enumerated() {
        var value = -solution.rho
        for (column, s) in support.enumerated() {
          value += labels[training[s]] * solution.alpha[s] * block[row, column]
        }
        decisionValues[position] = value
      }
    }
    return PlattSigmoid.fit(decisionValues: decisionValues, labels: labels)
  }

  // MARK: - Prediction

  /// Decision values of every pair, `[rows, pairs.count]`: `Σ y_i α_i K(x_i, x) − ρ`, computed
  /// as two GEMMs (kernel block, then the coefficient product).
  public func decisionValues(_ features: Matrix) -> Matrix {
    precondition(
      features.columns == featureCount,
      "features have \(features.columns) columns, the model \(featureCount)")
    guard features.rows > 0 else { return Matrix(rows: 0, columns: pairs.count) }
    let kernelBlock: Matrix
    if let pixelSupport, let queries = PixelCodes(features, columns: usedColumns) {
      kernelBlock = kernel.block(
        pixelDots: PixelCodes.dotProducts(queries, pixelSupport),
        aSquaredNorms: queries.squaredNorms, bSquaredNorms: pixelSupport.squaredNorms)
    } else if let usedColumns {
      let compact = Matrix(rows: features.rows, columns: usedColumns.count) {
        features[$0, usedColumns[$1]]
      }
      kernelBlock = kernel.block(
        compact, compactSupportVectors, aNorms: features.rowSquaredNorms(), bNorms: supportNorms)
    } else {
      kernelBlock = kernel.block(features, supportVectors, bNorms: supportNorms)
    }
    return decisionValues(kernelBlock: kernelBlock)
  }

  /// Decision values from the kernel between rows and support vectors, `[rows, supportCount]`.
  func decisionValues(kernelBlock: Matrix) -> Matrix {
    var values = Matrix.product(kernelBlock, dualCoefficients)
    for row in 0..<values.rows {
      for p in 0..<pairs.count { values[row, p] -= rho[p] }
    }
    return values
  }

  /// Decision values of a masked batch: the kernel needs only dot products and norms, which the
  /// batch gives from one pass over the support vectors plus a product of size groups ×
  /// supports (exact; ~25× fewer operations for LIME on a digit with 25 segments).
  public func decisionValues(_ batch: MaskedBatch) -> Matrix {
    let dots = batch.dotProducts(with: supportVectors)
    let norms = batch.rowSquaredNorms()
    var block = dots
    let columns = block.columns
    switch kernel {
    case .linear:
      break
    case let .polynomial(gamma, coef0, degree):
      for index in block.storage.indices { block.storage[index] = power(gamma * block.storage[index] + coef0, degree) }
    case let .rbf(gamma):
      for row in 0..<block.rows {
        for column in 0..<columns {
          let distance = max(norms[row] + supportNorms[column] - 2 * dots[row, column], 0)
          block[row, column] = exp(-gamma * distance)
        }
      }
    }
    return decisionValues(kernelBlock: block)
  }

  public func predictProbabilities(_ batch: MaskedBatch) -> Matrix {
    probabilities(fromDecisionValues: decisionValues(batch))
  }

  /// True: kernel values come from dot products per segment, never from the images.
  public var scoresMaskedBatchesWithoutImages: Bool { true }

  /// libsvm's one-vs-one vote: each pair votes for its first class when its decision value is
  /// positive, else for its second; the class with most votes wins, ties to the lower index.
  public func predict(_ features: Matrix) -> [Int] {
    votes(fromDecisionValues: decisionValues(features))
  }

  /// `predictProbabilities` and `predict` together, from one evaluation of the kernel (which
  /// costs more than either step after it).
  public func predictProbabilitiesAndVotes(_ features: Matrix) -> (probabilities: Matrix, votes: [Int]) {
    let values = decisionValues(features)
    return (probabilities(fromDecisionValues: values), votes(fromDecisionValues: values))
  }

  /// The one-vs-one vote winners from decision values `[rows, pairs]`.
  func votes(fromDecisionValues values: Matrix) -> [Int] {
    (0..<values.rows).map { row in
      var votes = [Int](repeating: 0, count: classNames.count)
      for (p, pair) in pairs.enumerated() {
        votes[values[row, p] > 0 ? pair.first : pair.second] += 1
      }
      var best = 0
      for c in 1..<votes.count where votes[c] > votes[best] { best = c }
      return best
    }
  }

  /// Probabilities from the pairwise Platt sigmoids and pairwise coupling (libsvm's
  /// `svm_predict_probability`, pairwise estimates clipped to [1e-7, 1 − 1e-7]). Without fitted
  /// sigmoids, the vote shares are returned.
  public func predictProbabilities(_ features: Matrix) -> Matrix {
    probabilities(fromDecisionValues: decisionValues(features))
  }

  /// Probabilities from decision values `[rows, pairs]`.
  func probabilities(fromDecisionValues values: Matrix) -> Matrix {
    let k = classNames.count
    var result = Matrix(rows: values.rows, columns: k)
    let presentClasses = Array(Set(pairs.flatMap { [$0.first, $0.second] })).sorted()
    guard hasProbabilities else {
      for row in 0..<values.rows {
        for (p, pair) in pairs.enumerated() {
          result[row, values[row, p] > 0 ? pair.first : pair.second] += 1 / Double(pairs.count)
        }
      }
      return result
    }
    var local = [Int](repeating: 0, count: k)
    for (position, c) in presentClasses.enumerated() { local[c] = position }
    let firsts = pairs.map { local[$0.first] }
    let seconds = pairs.map { local[$0.second] }
    let m = presentClasses.count
    let minimum = 1e-7
    // Rows `range` into `out` (`[range.count, m]`), with one set of work arrays.
    let coupleRows = { (range: Range<Int>, out: UnsafeMutablePointer<Double>) in
      var r = [Double](repeating: 0, count: m * m)
      var scratch = PairwiseCoupling.Scratch(classes: m)
      r.withUnsafeMutableBufferPointer { rBuffer in
        guard let r = rBuffer.baseAddress else { return }
        for (offset, row) in range.enumerated() {
          for p in pairs.indices {
            let probability = min(
              max(sigmoids[p].probability(values[row, p]), minimum), 1 - minimum)
            let (i, j) = (firsts[p], seconds[p])
            r[i * m + j] = probability
            r[j * m + i] = 1 - probability
          }
          let target = out + offset * m
          if m == 2 {
            target[0] = r[1]
            target[1] = r[2]
          } else {
            PairwiseCoupling.couple(r, into: target, scratch: &scratch)
          }
        }
      }
    }
    var coupled = [Double](repeating: 0, count: values.rows * m)
    coupled.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      // Coupling costs microseconds per row: spread it over cores only for large batches
      // (LIME's batches arrive from threads that are already running side by side).
      if values.rows >= 4096 {
        let chunks = contiguousChunks(of: values.rows, parts: Parallelism.threadCount * 4)
        let shared = UncheckedSendable(base)
        _ = parallelMap(chunks.count) { part in
          coupleRows(chunks[part], shared.value + chunks[part].lowerBound * m)
        }
      } else {
        coupleRows(0..<values.rows, base)
      }
    }
    for row in 0..<values.rows {
      for (position, c) in presentClasses.enumerated() {
        result[row, c] = coupled[row * m + position]
      }
    }
    return result
  }
}

/// One pair's training result.
struct TrainedPair {
  var rows: [Int]
  var labels: [Double]
  var solution: SMOSolution
  var sigmoid: PlattSigmoid?
}


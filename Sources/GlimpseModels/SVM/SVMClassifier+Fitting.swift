import GlimpseCore
import Synchronization

// Training: one binary SVM per class pair (SMOSolver), in parallel, then Platt sigmoids on
// cross-validated decision values (libsvm's svm_binary_svc_probability).

extension SVMClassifier {
  /// Trains one binary SVM per class pair on all cores, with Platt sigmoids when
  /// `hyperparameters.probability` is set; `progress` gets the fraction of pairs done.
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
        let sigmoid =
          h.probability
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
        coefficients[supportPosition[row]!, p] =
          pair.labels[position] * pair.solution.alpha[position]
      }
    }
    let supportVectors = features.selectingRows(supportIndices)
    return SVMClassifier(
      hyperparameters: h, classNames: data.classNames, featureCount: data.featureCount,
      kernel: kernel, supportIndices: supportIndices, supportVectors: supportVectors,
      dualCoefficients: coefficients, rho: trained.map(\.solution.rho), pairs: pairs,
      sigmoids: h.probability ? trained.compactMap { $0.sigmoid } : [],
      classOfSupport: Dictionary(uniqueKeysWithValues: supportIndices.map { ($0, data.labels[$0]) })
    )
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
    let l = rows.count
    let folds = 5
    let permutation = Array(0..<l).shuffled(using: &generator)
    var decisionValues = [Double](repeating: 0, count: l)
    for fold in 0..<folds {
      let begin = fold * l / folds
      let end = (fold + 1) * l / folds
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
        kernel: KernelRows(
          members: training.map { rows[$0] }, source: source, cacheBytes: cacheBytes),
        labels: training.map { labels[$0] }, c: h.c, epsilon: h.tolerance, shrinking: h.shrinking)
      let solution = solver.solve()
      let support = training.indices.filter { solution.alpha[$0] > 0 }
      let block = source.block(
        rows: heldOut.map { rows[$0] }, columns: support.map { rows[training[$0]] })
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
}

/// One pair's training result.
struct TrainedPair {
  var rows: [Int]
  var labels: [Double]
  var solution: SMOSolution
  var sigmoid: PlattSigmoid?
}

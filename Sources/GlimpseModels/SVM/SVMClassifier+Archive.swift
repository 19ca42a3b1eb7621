import GlimpseCore

extension SVMClassifier {
  /// Saves support vectors, their training rows and classes, dual coefficients, offsets, the
  /// resolved kernel and the Platt sigmoids.
  public func archive() -> ModelArchive {
    var scalars: [String: Double] = [:]
    var kernelCode = 0.0
    switch kernel {
    case .rbf(let gamma):
      scalars["gamma"] = gamma
    case .linear:
      kernelCode = 1
    case let .polynomial(gamma, coef0, degree):
      kernelCode = 2
      scalars["gamma"] = gamma
      scalars["coef0"] = coef0
      scalars["degree"] = Double(degree)
    }
    scalars["kernel"] = kernelCode
    return ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount,
      hyperparameters: hyperparameters, scalars: scalars,
      doubles: [
        "supportVectors": supportVectors.storage, "dualCoefficients": dualCoefficients.storage,
        "rho": rho, "probA": sigmoids.map(\.a), "probB": sigmoids.map(\.b),
      ],
      integers: [
        "supportIndices": supportIndices,
        "supportClasses": supportIndices.map { supportClass($0) },
        "pairFirst": pairs.map(\.first), "pairSecond": pairs.map(\.second),
      ])
  }

  /// Restores a model saved by `archive()`.
  ///
  /// Every field is checked against the others before it is used: the kernel against the
  /// hyperparameters, the class pairs (libsvm's complete list of i < j pairs of the classes
  /// present), support vector indices (distinct) and classes, array lengths against the support
  /// vector, pair and feature counts, and every weight finite.
  /// - Throws: `ModelError.wrongKind`, or `.corruptModelFile` naming the field that is wrong.
  public init(archive: ModelArchive) throws(ModelError) {
    guard archive.kind == Self.kind else {
      throw .wrongKind(found: archive.kind, expected: Self.kind)
    }
    let hyperparameters = try archive.hyperparameters(as: Hyperparameters.self) {
      h throws(ModelError) in try h.validate()
    }
    let kernel: Kernel
    let kernelName: KernelName
    switch try archive.integerScalar("kernel", in: 0...2) {
    case 0:
      kernel = .rbf(gamma: try Self.gamma(archive))
      kernelName = .rbf
    case 1:
      kernel = .linear
      kernelName = .linear
    default:
      let degree = try archive.integerScalar("degree", in: 1...Self.maximumDegree)
      guard degree == hyperparameters.degree else {
        throw .corruptModelFile(
          "scalar 'degree' is \(degree), but the hyperparameters say \(hyperparameters.degree)")
      }
      kernel = .polynomial(
        gamma: try Self.gamma(archive), coef0: try archive.finiteScalar("coef0"), degree: degree)
      kernelName = .poly
    }
    guard kernelName == hyperparameters.kernel else {
      throw .corruptModelFile(
        "scalar 'kernel' says \(kernelName.rawValue), but the hyperparameters say \(hyperparameters.kernel.rawValue)"
      )
    }
    let classCount = try archive.classCount()
    let first = try archive.integers("pairFirst", in: 0..<classCount)
    let second = try archive.integers("pairSecond", count: first.count, in: 0..<classCount)
    let pairs = zip(first, second).map { ClassPair(first: $0, second: $1) }
    // Prediction couples every pair of the classes present: anything else is not a libsvm model.
    let present = Array(Set(first + second)).sorted()
    var expected: [ClassPair] = []
    for (position, i) in present.enumerated() {
      for j in present[(position + 1)...] { expected.append(ClassPair(first: i, second: j)) }
    }
    guard !pairs.isEmpty, pairs == expected else {
      throw .corruptModelFile(
        "arrays 'pairFirst' and 'pairSecond' are not every pair i < j of the classes present, in order"
      )
    }
    let supportIndices = try archive.integers("supportIndices", in: 0..<Int.max)
    guard !supportIndices.isEmpty else {
      throw .corruptModelFile("array 'supportIndices' is empty (a model has support vectors)")
    }
    guard Set(supportIndices).count == supportIndices.count else {
      throw .corruptModelFile("array 'supportIndices' lists a training row twice")
    }
    let supportClasses = try archive.integers(
      "supportClasses", count: supportIndices.count, in: 0..<classCount)
    let d = archive.featureCount
    let supportCount = supportIndices.count
    let vectors = try archive.finiteDoubles(
      "supportVectors", count: ModelArchive.product(supportCount, d, for: "supportVectors"))
    let coefficients = try archive.finiteDoubles(
      "dualCoefficients",
      count: ModelArchive.product(supportCount, pairs.count, for: "dualCoefficients"))
    let probA = try archive.finiteDoubles("probA")
    let probB = try archive.finiteDoubles("probB", count: probA.count)
    guard probA.isEmpty || probA.count == pairs.count else {
      throw .corruptModelFile(
        "array 'probA' holds \(probA.count) sigmoids for \(pairs.count) pairs")
    }
    self.init(
      hyperparameters: hyperparameters, classNames: archive.classNames, featureCount: d,
      kernel: kernel, supportIndices: supportIndices,
      supportVectors: Matrix(rows: supportCount, columns: d, storage: vectors),
      dualCoefficients: Matrix(rows: supportCount, columns: pairs.count, storage: coefficients),
      rho: try archive.finiteDoubles("rho", count: pairs.count),
      pairs: pairs,
      sigmoids: zip(probA, probB).map { PlattSigmoid(a: $0, b: $1) },
      classOfSupport: Dictionary(zip(supportIndices, supportClasses)) { first, _ in first })
  }

  /// The stored γ, finite and > 0 (as training resolves it).
  private static func gamma(_ archive: ModelArchive) throws(ModelError) -> Double {
    let gamma = try archive.finiteScalar("gamma")
    guard gamma > 0 else { throw .corruptModelFile("scalar 'gamma' is \(gamma), expected > 0") }
    return gamma
  }
}

extension SVMClassifier.Hyperparameters {
  /// Refuses values `fit` would refuse (a model file's hyperparameters are read back).
  func validate() throws(ModelError) {
    guard c > 0 else {
      throw .invalidHyperparameter(name: "C", value: "\(c)", expected: "a number > 0")
    }
    guard tolerance > 0 else {
      throw .invalidHyperparameter(name: "tol", value: "\(tolerance)", expected: "a number > 0")
    }
    if case .value(let gamma) = gamma, !(gamma > 0) {
      throw .invalidHyperparameter(name: "gamma", value: "\(gamma)", expected: "a number > 0")
    }
    if kernel == .poly, !(1...SVMClassifier.maximumDegree).contains(degree) {
      throw .invalidHyperparameter(
        name: "degree", value: "\(degree)",
        expected: "an integer in 1...\(SVMClassifier.maximumDegree)")
    }
  }
}

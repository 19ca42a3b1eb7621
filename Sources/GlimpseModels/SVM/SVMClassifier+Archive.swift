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

  public init(archive: ModelArchive) throws(ModelError) {
    guard archive.kind == Self.kind else { throw .wrongKind(found: archive.kind, expected: Self.kind) }
    let hyperparameters = try archive.hyperparameters(as: Hyperparameters.self)
    let kernel: Kernel
    switch try archive.scalar("kernel") {
    case 0: kernel = .rbf(gamma: try archive.scalar("gamma"))
    case 1: kernel = .linear
    case 2:
      kernel = .polynomial(
        gamma: try archive.scalar("gamma"), coef0: try archive.scalar("coef0"),
        degree: Int(try archive.scalar("degree")))
    default: throw .corruptModelFile("unknown kernel code")
    }
    let first = try archive.integers("pairFirst")
    let second = try archive.integers("pairSecond", count: first.count)
    let classCount = archive.classNames.count
    guard (first + second).allSatisfy({ $0 >= 0 && $0 < classCount }) else {
      throw .corruptModelFile("a class pair refers to a class outside 0..<\(classCount)")
    }
    let supportIndices = try archive.integers("supportIndices")
    let supportClasses = try archive.integers("supportClasses", count: supportIndices.count)
    let d = archive.featureCount
    let vectors = try archive.doubles("supportVectors", count: supportIndices.count * d)
    let coefficients = try archive.doubles(
      "dualCoefficients", count: supportIndices.count * first.count)
    let probA = try archive.doubles("probA")
    let probB = try archive.doubles("probB", count: probA.count)
    guard probA.isEmpty || probA.count == first.count else {
      throw .corruptModelFile("\(probA.count) sigmoids for \(first.count) pairs")
    }
    self.init(
      hyperparameters: hyperparameters, classNames: archive.classNames, featureCount: d,
      kernel: kernel, supportIndices: supportIndices,
      supportVectors: Matrix(rows: supportIndices.count, columns: d, storage: vectors),
      dualCoefficients: Matrix(rows: supportIndices.count, columns: first.count, storage: coefficients),
      rho: try archive.doubles("rho", count: first.count),
      pairs: zip(first, second).map { ClassPair(first: $0, second: $1) },
      sigmoids: zip(probA, probB).map { PlattSigmoid(a: $0, b: $1) },
      classOfSupport: Dictionary(uniqueKeysWithValues: zip(supportIndices, supportClasses).map { ($0, $1) }))
  }
}

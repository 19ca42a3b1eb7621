import GlimpseCore
import Testing

@testable import GlimpseValuation

/// A 1-nearest-neighbour accuracy game written out by brute force, independently of the
/// library's k-NN model and of `ExactSemivalues`: U(S) is the validation accuracy of "predict the
/// label of the nearest point of S" (U(∅) = 0), and the semivalues are sums over every subset.
/// Points are continuous random draws, so no two distances tie.
struct OneNearestNeighborGame {
  let training: Dataset
  let validation: Dataset

  /// `count` training points and 10 validation points in 2-D, `classes` overlapping blobs.
  init(count: Int, classes: Int = 2, seed: UInt64) {
    var rng = SeededGenerator(seed: seed)
    func points(_ n: Int) -> ([[Double]], [Int]) {
      let labels = (0..<n).map { $0 % classes }
      let rows = labels.map { label in
        [
          Double(label) + Double.random(in: -0.9...0.9, using: &rng),
          Double(label % 2) + Double.random(in: -0.9...0.9, using: &rng),
        ]
      }
      return (rows, labels)
    }
    let names = (0..<classes).map { "c\($0)" }
    let (trainRows, trainLabels) = points(count)
    let (validRows, validLabels) = points(10)
    training = Dataset(
      features: Matrix(trainRows), labels: trainLabels, classNames: names,
      sources: trainRows.indices.map { "t\($0)" })
    validation = Dataset(
      features: Matrix(validRows), labels: validLabels, classNames: names,
      sources: validRows.indices.map { "v\($0)" })
  }

  var n: Int { training.count }

  /// The label 1-NN trained on the points of `members` predicts for validation row `row`.
  func prediction(members: [Int], row: Int) -> Int {
    var best = members[0]
    var bestDistance = Double.infinity
    for point in members {
      let dx = training.features[point, 0] - validation.features[row, 0]
      let dy = training.features[point, 1] - validation.features[row, 1]
      if dx * dx + dy * dy < bestDistance {
        bestDistance = dx * dx + dy * dy
        best = point
      }
    }
    return training.labels[best]
  }

  /// U(mask): 1-NN validation accuracy, 0 for the empty set.
  func utility(_ mask: Int) -> Double {
    let members = (0..<n).filter { mask & (1 << $0) != 0 }
    guard !members.isEmpty else { return 0 }
    let hits = (0..<validation.count).filter {
      prediction(members: members, row: $0) == validation.labels[$0]
    }
    return Double(hits.count) / Double(validation.count)
  }

  /// Σ_{S ∌ i} weight(|S|) (U(S ∪ {i}) − U(S)) for every i.
  func semivalues(weight: (Int) -> Double) -> [Double] {
    let table = (0..<(1 << n)).map(utility)
    return (0..<n).map { i in
      (0..<(1 << n)).filter { $0 & (1 << i) == 0 }.reduce(0.0) { sum, mask in
        sum + weight(mask.nonzeroBitCount) * (table[mask | (1 << i)] - table[mask])
      }
    }
  }

  static func factorial(_ k: Int) -> Double { k < 2 ? 1 : (2...k).reduce(1.0) { $0 * Double($1) } }

  /// Shapley: |S|!(n − |S| − 1)!/n!.
  var shapley: [Double] {
    semivalues { Self.factorial($0) * Self.factorial(n - $0 - 1) / Self.factorial(n) }
  }
  /// Banzhaf: 2^−(n−1).
  var banzhaf: [Double] { semivalues { _ in 1 / Double(1 << (n - 1)) } }
  /// Leave-one-out: U(D) − U(D ∖ {i}).
  var leaveOneOut: [Double] {
    let all = (1 << n) - 1
    return (0..<n).map { utility(all) - utility(all & ~(1 << $0)) }
  }
  /// Beta(α, β) for integer α, β: B(k + β, n − k − 1 + α)/B(α, β) with B(a, b) = (a−1)!(b−1)!/(a+b−1)!.
  func beta(alpha: Int, beta: Int) -> [Double] {
    func b(_ a: Int, _ c: Int) -> Double {
      Self.factorial(a - 1) * Self.factorial(c - 1) / Self.factorial(a + c - 1)
    }
    return semivalues { k in b(k + beta, n - k - 1 + alpha) / b(alpha, beta) }
  }

  func run(_ job: ValuationJob, samples: Int? = nil) throws -> ValuationResult {
    try job.run(
      training: training, validation: validation,
      sampling: SamplingSettings(limits: StoppingLimits(samples: samples))
    ).result
  }
}

func maximumDifference(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count, "\(a.count) != \(b.count) values")
  return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite("Model families' own rules: k-NN fits one class; exact games by brute-force enumeration")
struct ModelFamilyGameTests {
  static let game = OneNearestNeighborGame(count: 9, seed: 21)
  static let oneNN = LearnerFamily(.knn, k: 1)

  @Test("A single-class subset is fitted by k-NN (its class's share) and untrainable for logistic")
  func singleClassSubsets() {
    let game = Self.game
    let knn = ModelUtility(
      ClassifierLearner.nearestNeighbors(
        training: game.training, validation: game.validation, k: 1), untrainableValue: -1)
    let logistic = ModelUtility(
      ClassifierLearner.logistic(training: game.training, validation: game.validation),
      untrainableValue: -1)
    let classZero = (0..<game.n).filter { game.training.labels[$0] == 0 }
    let share =
      Double(game.validation.labels.filter { $0 == 0 }.count) / Double(game.validation.count)
    #expect(knn.value(of: classZero) == share)
    #expect(knn.value(of: [classZero[0]]) == share)
    #expect(knn.value(of: []) == -1)
    #expect(logistic.value(of: classZero) == -1)
    #expect(LearnerFamily.Kind.knn.fitsSingleClass)
    #expect(!LearnerFamily.Kind.logistic.fitsSingleClass && !LearnerFamily.Kind.svm.fitsSingleClass)
  }

  @Test(
    "Exact Shapley of the 1-NN accuracy game (--method exact --model knn --k 1) equals enumeration to 1e-9"
  )
  func exactShapley() throws {
    let result = try Self.game.run(ValuationJob(method: .exact, model: Self.oneNN))
    #expect(maximumDifference(result.values, Self.game.shapley) < 1e-9)
    // Efficiency: the values sum to U(D) − U(∅).
    #expect(abs(result.values.reduce(0, +) - Self.game.utility((1 << Self.game.n) - 1)) < 1e-9)
  }

  @Test("Exact Banzhaf (--semivalue banzhaf) and LOO of the 1-NN game equal enumeration to 1e-9")
  func exactBanzhafAndLeaveOneOut() throws {
    var job = ValuationJob(method: .exact, model: Self.oneNN)
    job.exactSemivalue = .banzhaf
    let banzhaf = try Self.game.run(job)
    #expect(banzhaf.method == "exact-banzhaf")
    #expect(maximumDifference(banzhaf.values, Self.game.banzhaf) < 1e-9)
    let loo = try Self.game.run(ValuationJob(method: .loo, model: Self.oneNN))
    #expect(maximumDifference(loo.values, Self.game.leaveOneOut) < 1e-9)
  }

  @Test("TMC without truncation on the 1-NN game lies within 4 standard errors of enumeration")
  func tmcWithinFourStandardErrors() throws {
    let result = try Self.game.run(
      ValuationJob(method: .tmc, model: Self.oneNN, truncation: 0), samples: 3000)
    let exact = Self.game.shapley
    for i in 0..<Self.game.n {
      #expect(
        abs(result.values[i] - exact[i]) <= 4 * result.standardErrors[i] + 1e-12,
        "point \(i): \(result.values[i]) ± \(result.standardErrors[i]) vs \(exact[i])")
    }
  }

  @Test(
    "Exact Beta(α, β) semivalues equal enumeration with factorial Beta functions, (16, 1) and (2, 3)"
  )
  func exactBeta() throws {
    for (alpha, beta) in [(16, 1), (2, 3)] {
      var job = ValuationJob(method: .exact, model: Self.oneNN)
      job.exactSemivalue = .beta(alpha: Double(alpha), beta: Double(beta))
      let result = try Self.game.run(job)
      #expect(maximumDifference(result.values, Self.game.beta(alpha: alpha, beta: beta)) < 1e-9)
    }
  }

  @Test(
    "Beta weights of all coalitions sum to 1; Beta(1, 1) is Shapley, exactly enumerated to 1e-12")
  func betaOneOneIsShapley() throws {
    for n in [1, 5, 30] {
      for weights in [
        BetaSemivalue(), BetaSemivalue(alpha: 1, beta: 1), BetaSemivalue(alpha: 2, beta: 5),
      ] {
        let total = (0..<n).reduce(0.0) {
          $0 + ExactSemivalues.binomial(n - 1, $1) * weights.weight(playerCount: n, size: $1)
        }
        #expect(abs(total - 1) < 1e-12)
      }
      for k in 0..<n {
        #expect(
          abs(BetaSemivalue(alpha: 1, beta: 1).permutationWeight(playerCount: n, position: k) - 1)
            < 1e-12)
      }
    }
    var job = ValuationJob(method: .exact, model: Self.oneNN)
    job.exactSemivalue = .beta(alpha: 1, beta: 1)
    let beta = try Self.game.run(job)
    #expect(maximumDifference(beta.values, Self.game.shapley) < 1e-12)
  }

  @Test(
    "Sampled Beta(1, 1) equals TMC on the same permutations (1e-12); Beta(16, 1) lies within 4 standard errors of enumeration"
  )
  func sampledBeta() throws {
    var job = ValuationJob(method: .beta, model: Self.oneNN, truncation: 0)
    job.betaWeights = BetaSemivalue(alpha: 1, beta: 1)
    let betaOneOne = try Self.game.run(job, samples: 200)
    let tmc = try Self.game.run(
      ValuationJob(method: .tmc, model: Self.oneNN, truncation: 0), samples: 200)
    #expect(betaOneOne.method == "beta")
    #expect(maximumDifference(betaOneOne.values, tmc.values) < 1e-12)
    job.betaWeights = BetaSemivalue(alpha: 16, beta: 1)
    let sampled = try Self.game.run(job, samples: 4000)
    let exact = Self.game.beta(alpha: 16, beta: 1)
    for i in 0..<Self.game.n {
      #expect(
        abs(sampled.values[i] - exact[i]) <= 4 * sampled.standardErrors[i] + 1e-12,
        "point \(i): \(sampled.values[i]) ± \(sampled.standardErrors[i]) vs \(exact[i])")
    }
  }

  @Test("The fingerprint of a beta job depends on α and β; other methods' fingerprints do not")
  func betaFingerprint() {
    let game = Self.game
    var beta = ValuationJob(method: .beta)
    let first = beta.fingerprint(training: game.training, validation: game.validation)
    beta.betaWeights = BetaSemivalue(alpha: 4, beta: 1)
    #expect(beta.fingerprint(training: game.training, validation: game.validation) != first)
    var tmc = ValuationJob(method: .tmc)
    let tmcFirst = tmc.fingerprint(training: game.training, validation: game.validation)
    tmc.betaWeights = BetaSemivalue(alpha: 4, beta: 1)
    #expect(tmc.fingerprint(training: game.training, validation: game.validation) == tmcFirst)
  }
}

import GlimpseCore
import GlimpseModels
import Testing

@testable import GlimpseValuation

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Exhaustive class-wise Shapley (Schoch et al. 2022) against its definition")
struct ClasswiseExhaustiveTests {
  static let game = OneNearestNeighborGame(count: 7, classes: 3, seed: 11)

  static var utility: ModelUtility<ClassifierLearner<KNearestNeighbors>> {
    ModelUtility(
      ClassifierLearner.nearestNeighbors(
        training: game.training, validation: game.validation, k: 1))
  }

  /// The definition written out: for i of class c, the mean over the subsets S₋c of the other
  /// classes' points that hold every other class, and over every ordering of class c, of i's
  /// marginal to u_c = a_in · exp(a_out) of 1-NN (brute force) on S₋c plus the points before it,
  /// the first point's marginal taken from U(∅) = 0. Unnormalised.
  static func definition(_ game: OneNearestNeighborGame) -> [Double] {
    let labels = game.training.labels
    let classes = Array(Set(labels)).sorted()
    func score(_ members: [Int], label: Int) -> Double {
      var inside = 0.0
      var outside = 0.0
      for row in 0..<game.validation.count
      where game.prediction(members: members, row: row) == game.validation.labels[row] {
        if game.validation.labels[row] == label { inside += 1 } else { outside += 1 }
      }
      let total = Double(game.validation.count)
      return inside / total * exp(outside / total)
    }
    func orderings(_ items: [Int]) -> [[Int]] {
      guard items.count > 1 else { return [items] }
      return items.indices.flatMap { i in
        var rest = items
        let first = rest.remove(at: i)
        return orderings(rest).map { [first] + $0 }
      }
    }
    var values = [Double](repeating: 0, count: game.n)
    for label in classes {
      let members = labels.indices.filter { labels[$0] == label }
      let others = labels.indices.filter { labels[$0] != label }
      let admissible = (0..<(1 << others.count)).map { mask in
        others.indices.filter { mask & (1 << $0) != 0 }.map { others[$0] }
      }.filter { Set($0.map { labels[$0] }).count == classes.count - 1 }
      let perms = orderings(members)
      for outside in admissible {
        for order in perms {
          var previous = 0.0
          for (step, point) in order.enumerated() {
            let current = score(outside + order[...step], label: label)
            values[point] += (current - previous) / Double(admissible.count * perms.count)
            previous = current
          }
        }
      }
    }
    return values
  }

  @Test(
    "Unnormalised exhaustive values equal the brute-force definition on a 7-point 1-NN game to 1e-12"
  )
  func matchesDefinition() throws {
    let exact = try ClasswiseShapley.exhaustive(Self.utility, normalized: false)
    #expect(maximumDifference(exact.values, Self.definition(Self.game)) < 1e-12)
  }

  @Test(
    "Normalised, each class sums to its in-class score; --exhaustive through the job is the same")
  func normalisation() throws {
    let exact = try ClasswiseShapley.exhaustive(Self.utility)
    let scores = ClasswiseShapley.inClassScores(Self.utility)
    let labels = Self.game.training.labels
    for (label, score) in scores {
      let sum = labels.indices.filter { labels[$0] == label }.reduce(0.0) { $0 + exact.values[$1] }
      #expect(abs(sum - score) < 1e-12)
    }
    var job = ValuationJob(method: .classwise, model: LearnerFamily(.knn, k: 1))
    job.exhaustive = true
    #expect(!job.isSampled)
    #expect(try Self.game.run(job).values == exact.values)
  }

  @Test("Exhaustive values reproduce pyDVL's hand-solvable case to 1e-12")
  func pyDVLsHandSolvableCase() throws {
    let result = try ClasswiseShapley.exhaustive(ModelUtility(ClosedFormLinearLearner()))
    let e4: Double = exp(0.25)
    let e2: Double = exp(0.5)
    let c: Double = e4 / 3 + 2 * e2 / 3
    let expected: [Double] = [1.0 / 6, 1.0 / 3, (e4 / 12 + e2 / 24) / c, (e2 / 8) / c]
    #expect(maximumDifference(result.values, expected) < 1e-12)
  }

  @Test("The sampled estimator's means lie within 4 standard errors of the exhaustive values")
  func sampledConverges() throws {
    let exact = try ClasswiseShapley.exhaustive(Self.utility, normalized: false)
    let (_, state) = ClasswiseShapley(seed: 2).run(
      Self.utility, options: MonteCarloOptions(stopping: .maxSamples(3000)))
    let sampled = TruncatedMonteCarloShapley.result(state)
    for i in 0..<Self.game.n {
      #expect(
        abs(sampled.values[i] - exact.values[i]) <= 4 * sampled.standardErrors[i] + 1e-12,
        "point \(i): \(sampled.values[i]) ± \(sampled.standardErrors[i]) vs \(exact.values[i])")
    }
  }

  @Test("More than 20 points is refused with one line")
  func refusesLargeSets() {
    let big = OneNearestNeighborGame(count: 21, seed: 1)
    #expect(throws: ValuationError.self) {
      try ClasswiseShapley.exhaustive(
        ModelUtility(
          ClassifierLearner.nearestNeighbors(
            training: big.training, validation: big.validation, k: 1)))
    }
  }
}

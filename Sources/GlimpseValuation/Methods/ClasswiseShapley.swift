import GlimpseCore

/// Class-wise Shapley (Schoch, Xu & Ji 2022, "CS-Shapley"), as pyDVL 0.10 computes it.
///
/// A point is valued within its class c, conditioned on the rest: each sample picks a class c
/// (round robin over the training classes), a subset S₋c of the other classes' points drawn
/// uniformly (each in with probability ½, redrawn until every other class appears, pyDVL's
/// `min_elements_per_label=1`), and a random permutation of class c's points. Walking the
/// permutation from S₋c, each point gets its marginal contribution to the class-wise score
/// u_c(S) = a_in · exp(a_out) of a model trained on S₋c ∪ S_c (`ClasswiseScore`). The walk
/// starts from U(∅) (0), not from u_c(S₋c): pyDVL starts every permutation at the empty sample's
/// default, and this is what reproduces the exact solution in its documentation (the
/// β = x·y/x·x example, tested here). For models that never predict a class missing from their
/// training data (logistic regression, k-NN, SVM) a_in(S₋c) = 0, so the two starts agree. Values are
/// means of marginals (eq. 7 by permutations, Castro et al. 2009). Finally (pyDVL's
/// `normalize_values=True`, Schoch et al. §4) class c's values are rescaled to sum to the
/// in-class score a_in of the model trained on all the data.
public struct ClasswiseShapley: Sendable {
  /// The job's seed; sample `j` draws from its stream `j`.
  public var seed: UInt64
  /// Redraws of S₋c before accepting one that misses a class.
  public var maximumRedraws = 1000

  /// Class-wise Shapley with its samples drawn from `seed`.
  public init(seed: UInt64 = 0) { self.seed = seed }

  /// The sample function for `MonteCarloRunner`: sample `j`'s marginal contributions to the
  /// class-wise score of the class it picks (round robin).
  public func marginals<L: Learner>(_ utility: ModelUtility<L>) -> @Sendable (Int) -> [SampleUpdate]
  {
    let labels = utility.learner.trainingLabels
    let classes = Array(Set(labels)).sorted()
    let members = classes.map { c in labels.indices.filter { labels[$0] == c } }
    let outsiders = classes.map { c in labels.indices.filter { labels[$0] != c } }
    let seed = seed
    let maximumRedraws = maximumRedraws
    return { sample in
      let which = sample % classes.count
      let label = classes[which]
      var rng = SeededGenerator(seed: seed).stream(UInt64(sample))
      let otherClasses = classes.count - 1
      var outside: [Int] = []
      for _ in 0..<maximumRedraws {
        outside = outsiders[which].filter { _ in rng.next() & 1 == 1 }
        if Set(outside.map { labels[$0] }).count == otherClasses { break }
      }
      let permutation = members[which].shuffled(using: &rng)
      // The chain's first model (on S₋c alone) only serves as a warm start; see above.
      var chain = utility.makeClasswiseChain(from: outside, label: label)
      var previous = utility.untrainableValue
      var updates: [SampleUpdate] = []
      for point in permutation {
        // A time limit ends the walk between fits (the runner drops a cut-short sample).
        if MonteCarloRunner.sampleShouldStop { return [] }
        let current = chain.add(point)
        updates.append(SampleUpdate(point: point, value: current - previous))
        previous = current
      }
      return updates
    }
  }

  /// Runs (or resumes from `state`) the estimate and returns the normalised values with the
  /// final state (whose labels the normalisation needs).
  public func run<L: Learner>(
    _ utility: ModelUtility<L>, from state: MonteCarloState? = nil,
    fingerprint: String = "classwise", options: MonteCarloOptions,
    checkpoint: @escaping @Sendable (MonteCarloState) -> Void = { _ in },
    progress: @escaping @Sendable (MonteCarloProgress) -> Void = { _ in }
  ) -> (ValuationResult, MonteCarloState) {
    var start =
      state
      ?? MonteCarloState(fingerprint: fingerprint, pointCount: utility.playerCount, channelCount: 1)
    start.labels = utility.learner.trainingLabels
    let final = MonteCarloRunner.run(
      from: start, options: options, sample: marginals(utility), checkpoint: checkpoint,
      progress: progress)
    return (Self.result(final, utility: utility), final)
  }

  /// The normalised values held by a state (of this method).
  public static func result<L: Learner>(_ state: MonteCarloState, utility: ModelUtility<L>)
    -> ValuationResult
  {
    result(state, inClassScores: inClassScores(utility))
  }

  /// The normalised values held by a state, given the in-class scores of the model trained on
  /// all the data (`inClassScores(_:)`, which shards and merges can store).
  public static func result(_ state: MonteCarloState, inClassScores: [Int: Double])
    -> ValuationResult
  {
    var result = ValuationResult(
      method: "classwise", accumulator: state.accumulator, status: state.status ?? .interrupted,
      totalSamples: state.completed.count)
    normalize(&result, labels: state.labels ?? [], inClassScores: inClassScores)
    return result
  }

  /// a_in of the model trained on all training points, per training class.
  public static func inClassScores<L: Learner>(_ utility: ModelUtility<L>) -> [Int: Double] {
    let learner = utility.learner
    guard let model = learner.fit(Array(0..<learner.trainingCount), warmStart: nil) else {
      return [:]
    }
    let predictions = learner.predictions(of: model)
    let score = ClasswiseScore(validationLabels: learner.validationLabels)
    return Dictionary(
      uniqueKeysWithValues: Set(learner.trainingLabels).map { label in
        (label, score.inAndOutOfClass(predictions, label: label).inClass)
      })
  }

  /// Rescales each class's values to sum to its in-class score.
  static func normalize(
    _ result: inout ValuationResult, labels: [Int], inClassScores: [Int: Double]
  ) {
    // Points grouped by label in one pass (in index order, so each class's sum adds in the same
    // order as a filter would): a checkpoint's labels and scores can list any number of classes.
    var members: [Int: [Int]] = [:]
    for (point, label) in labels.enumerated() where point < result.count {
      members[label, default: []].append(point)
    }
    for (label, score) in inClassScores {
      let points = members[label] ?? []
      let sum = points.reduce(0) { $0 + result.values[$1] }
      guard sum != 0 else { continue }
      let factor = score / sum
      for point in points {
        result.values[point] *= factor
        result.standardErrors[point] *= abs(factor)
      }
    }
  }
}

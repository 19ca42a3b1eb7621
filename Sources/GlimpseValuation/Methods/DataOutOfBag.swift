import GlimpseCore

// Implementation notes
// 1. One bag is one Monte Carlo sample: the runner gives threads, checkpoints, shards, resumes
//    and time limits, and the 0/1 correctness of each out-of-bag point is one update, so the
//    accumulator's mean is the Data-OOB value and its standard error comes for free.
// 2. Bag b is n draws with replacement from the seed's stream b, sorted (a bag is a multiset;
//    sorting makes the model depend on it alone, not on the draw order, for k-NN's ties).
// 3. Logistic regression trains on a bag's distinct rows weighted by their multiplicities
//    (`Learner.fitBag`, `LogisticRegression.fit(_:sampleWeights:...)`): the same objective as
//    the repeated rows on ~63 % of them.
//    On the 1000 anchor digits (one worker, `glimpse-bench data-oob`, CPU seconds) this cut a
//    bag from 0.093 to 0.061 s. Each bag starts from the fit on all points (made once per run;
//    the same start on every thread and shard), where scikit-learn's bagging starts from zero:
//    the optimum is the same to the tolerance, and L-BFGS reaches it in ~29 iterations instead
//    of ~36 (scipy on the same bags gives the same counts).
// 4. A bag the family cannot fit (one class, for logistic regression or the SVM) adds nothing,
//    as if it had not been drawn; a point that is never out of bag keeps value 0 and 0 samples.

/// Data-OOB (Kwon & Zou 2023, "Data-OOB: Out-of-bag Estimate as a Simple and Efficient Data
/// Value", ICML, eq. (3)): bootstrap bags of the training points, a model per bag, and a point's
/// value is the mean accuracy (0/1 correctness) on it of the models whose bag missed it.
///
/// pyDVL 0.10's `DataOOBValuation` reads the bags of a fitted scikit-learn
/// `BaggingClassifier(estimator, n_estimators=B)`, leaving B to the user; Kwon & Zou use
/// B = 800, the default budget here. Needs no validation set.
public struct DataOutOfBag: Sendable {
  /// The job's seed; bag `b` is drawn from its stream `b`.
  public var seed: UInt64

  /// Data-OOB with bags drawn from `seed`.
  public init(seed: UInt64 = 0) { self.seed = seed }

  /// Bag number `bag` of `count` points: `count` draws with replacement, ascending.
  public func bag(_ bag: Int, count: Int) -> [Int] {
    var rng = SeededGenerator(seed: seed).stream(UInt64(bag))
    return (0..<count).map { _ in Int.random(in: 0..<count, using: &rng) }.sorted()
  }

  /// The points bag `bag` missed, ascending.
  public func outOfBag(_ bag: Int, count: Int) -> [Int] {
    var drawn = [Bool](repeating: false, count: count)
    for point in self.bag(bag, count: count) { drawn[point] = true }
    return (0..<count).filter { !drawn[$0] }
  }

  /// The sample function for `MonteCarloRunner`: 1 for each out-of-bag point that the model
  /// of bag `j` classifies correctly, 0 for the others (none when the bag cannot be fitted).
  /// `seed` also drives the SVM's probability folds. The learner (and, for logistic
  /// regression, the fit on every point that each bag starts from) is made once, here.
  public func samples(model: LearnerFamily, training: Dataset) -> @Sendable (Int) -> [SampleUpdate]
  {
    model.withLearner(
      training: training, validation: training, seed: seed,
      BagSampler(method: self, warmStarts: model.kind == .logistic))
  }

  /// Runs (or resumes from `state`) the estimate; returns the values and the final state.
  public func run(
    model: LearnerFamily, training: Dataset, from state: MonteCarloState? = nil,
    fingerprint: String = "data-oob", options: MonteCarloOptions,
    checkpoint: @escaping @Sendable (MonteCarloState) -> Void = { _ in },
    progress: @escaping @Sendable (MonteCarloProgress) -> Void = { _ in }
  ) -> (ValuationResult, MonteCarloState) {
    let start =
      state
      ?? MonteCarloState(fingerprint: fingerprint, pointCount: training.count, channelCount: 1)
    let final = MonteCarloRunner.run(
      from: start, options: options, sample: samples(model: model, training: training),
      checkpoint: checkpoint, progress: progress)
    return (Self.result(final), final)
  }

  /// The values held by a state (of this method): each point's mean out-of-bag accuracy.
  public static func result(_ state: MonteCarloState) -> ValuationResult {
    ValuationResult(
      method: "data-oob", accumulator: state.accumulator, status: state.status ?? .interrupted,
      totalSamples: state.completed.count)
  }

  /// Each bag's 0/1 updates, from one learner whose validation set is the training set.
  private struct BagSampler: LearnerBody {
    let method: DataOutOfBag
    /// Whether each bag starts from the fit on every point (note 3).
    let warmStarts: Bool

    func run<L: Learner>(_ learner: L) -> @Sendable (Int) -> [SampleUpdate] {
      let (method, n, labels) = (method, learner.trainingCount, learner.trainingLabels)
      let start = warmStarts ? learner.fit(Array(0..<n), warmStart: nil) : nil
      return { index in
        let outside = method.outOfBag(index, count: n)
        guard !outside.isEmpty,
          let model = learner.fitBag(method.bag(index, count: n), warmStart: start)
        else { return [] }
        let predictions = learner.predictions(of: model, rows: outside)
        return outside.indices.map { position in
          let point = outside[position]
          return SampleUpdate(point: point, value: predictions[position] == labels[point] ? 1 : 0)
        }
      }
    }
  }
}

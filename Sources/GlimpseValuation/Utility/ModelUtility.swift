import GlimpseCore

/// U(S) = the validation score of a model trained on S (Ghorbani & Zou 2019, §2).
///
/// U(∅) and subsets the learner cannot train on (see `ClassifierLearner`) get
/// `untrainableValue`, 0 by default. Chains warm-start each fit from the previous one.
public struct ModelUtility<L: Learner>: Utility {
  /// The model family trained on subsets.
  public let learner: L
  /// How validation predictions become U(S).
  public let score: ValidationScore
  /// U of subsets the learner cannot train on (the empty set, a single class).
  public let untrainableValue: Double

  /// The utility of `learner` scored by `score`; untrainable subsets are worth `untrainableValue`.
  public init(_ learner: L, score: ValidationScore = .accuracy, untrainableValue: Double = 0) {
    self.learner = learner
    self.score = score
    self.untrainableValue = untrainableValue
  }

  /// The training points, the players of the game.
  public var playerCount: Int { learner.trainingCount }

  /// U(S): the validation score of a model trained on `subset` (a fresh fit, no warm start).
  public func value(of subset: [Int]) -> Double {
    guard let model = learner.fit(subset, warmStart: nil) else { return untrainableValue }
    return score.score(learner.predictions(of: model), truth: learner.validationLabels)
  }

  /// U(D ∖ {i}) for every i, each fit warm-started from the fit on all of D, in parallel.
  public func leaveOneOutValues() -> [Double] {
    let everyone = Array(0..<playerCount)
    let full = learner.fit(everyone, warmStart: nil)
    return parallelMap(playerCount) { left in
      var subset = everyone
      subset.remove(at: left)
      guard let model = learner.fit(subset, warmStart: full) else { return untrainableValue }
      return score.score(learner.predictions(of: model), truth: learner.validationLabels)
    }
  }

  /// A chain that refits the model, warm-started, after each added point.
  public func makeChain(from base: [Int]) -> any UtilityChain {
    ModelChain(learner: learner, members: base) { [score] predictions, truth in
      score.score(predictions, truth: truth)
    } untrainable: { [untrainableValue] in
      untrainableValue
    }
  }

  /// A chain scored with the class-wise score for `label` (classwise Shapley's inner game).
  public func makeClasswiseChain(from base: [Int], label: Int) -> ModelChain<L> {
    let classwise = ClasswiseScore(validationLabels: learner.validationLabels)
    return ModelChain(learner: learner, members: base) { predictions, _ in
      classwise.score(predictions, label: label)
    } untrainable: { [untrainableValue] in
      untrainableValue
    }
  }
}

/// A growing training subset whose model is refitted, warm-started, after each addition.
public struct ModelChain<L: Learner>: UtilityChain {
  let learner: L
  let scoring: @Sendable ([Int], [Int]) -> Double
  let untrainable: @Sendable () -> Double
  /// The training points in the chain, in the order they were added.
  public private(set) var members: [Int]
  var model: L.Model?
  /// U(members).
  public private(set) var value: Double

  init(
    learner: L, members: [Int], scoring: @escaping @Sendable ([Int], [Int]) -> Double,
    untrainable: @escaping @Sendable () -> Double
  ) {
    self.learner = learner
    self.scoring = scoring
    self.untrainable = untrainable
    self.members = members
    model = learner.fit(members, warmStart: nil)
    value =
      model.map { scoring(learner.predictions(of: $0), learner.validationLabels) } ?? untrainable()
  }

  /// Adds `player`, refits warm-started from the previous model, and returns the new U.
  public mutating func add(_ player: Int) -> Double {
    members.append(player)
    model = learner.fit(members, warmStart: model) ?? nil
    value =
      model.map { scoring(learner.predictions(of: $0), learner.validationLabels) } ?? untrainable()
    return value
  }
}

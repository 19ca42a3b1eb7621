import GlimpseCore

/// A model's first and second choice for one sample.
public struct RankedPrediction: Sendable, Equatable {
  /// The row in the data.
  public var row: Int
  /// The true class, when known.
  public var truth: Int?
  /// The most probable class.
  public var first: Int
  /// The second most probable class.
  public var second: Int
  /// Probability of the first class.
  public var firstProbability: Double
  /// Probability of the second class.
  public var secondProbability: Double
  /// The model's own decision when it has one besides the argmax (an SVM's vote).
  public var vote: Int?

  /// `p1 − p2`: how close the model came to choosing the second class.
  public var margin: Double { firstProbability - secondProbability }
  /// Whether the first class is wrong (false when the truth is unknown).
  public var isWrong: Bool { truth.map { $0 != first } ?? false }
  /// Whether the truth is the first or the second class.
  public var truthInTopTwo: Bool { truth.map { $0 == first || $0 == second } ?? false }
  /// Whether the vote and the argmax of the probabilities disagree.
  public var voteDisagrees: Bool { vote.map { $0 != first } ?? false }
}

/// Which ranked predictions count as ambiguous. Every condition set must hold.
public struct AmbiguityQuery: Sendable, Equatable {
  /// Keep rows with `p1 − p2` at most this.
  public var maximumMargin: Double?
  /// Keep rows whose first class is wrong.
  public var wrongOnly = false
  /// Keep rows whose truth is the first or second class.
  public var truthInTopTwo = false
  /// Drop rows where the vote and the argmax of the probabilities disagree.
  public var skipVoteDisagreements = false
  /// Keep rows whose first and second classes are these two, in either order.
  public var classPair: [Int]?

  /// A query from its conditions (none set: every row).
  public init(
    maximumMargin: Double? = nil, wrongOnly: Bool = false, truthInTopTwo: Bool = false,
    skipVoteDisagreements: Bool = false, classPair: [Int]? = nil
  ) {
    self.maximumMargin = maximumMargin
    self.wrongOnly = wrongOnly
    self.truthInTopTwo = truthInTopTwo
    self.skipVoteDisagreements = skipVoteDisagreements
    self.classPair = classPair
  }

  /// The seed notebook's rule: skip rows where votes and the probability argmax disagree; keep
  /// those whose truth is first or second, whose first class is wrong, and whose p1 − p2 ≤ 0.5
  /// (so the truth is the runner-up, by at most half the probability mass).
  public static let seedRule = AmbiguityQuery(
    maximumMargin: 0.5, wrongOnly: true, truthInTopTwo: true, skipVoteDisagreements: true)

  /// Whether a ranked prediction satisfies every condition.
  public func matches(_ prediction: RankedPrediction) -> Bool {
    if let maximumMargin, prediction.margin > maximumMargin { return false }
    if wrongOnly && !prediction.isWrong { return false }
    if truthInTopTwo && !prediction.truthInTopTwo { return false }
    if skipVoteDisagreements && prediction.voteDisagrees { return false }
    if let classPair, Set(classPair) != Set([prediction.first, prediction.second]) { return false }
    return true
  }
}

/// Finds where a classifier hesitates between two classes.
public enum AmbiguityFinder {
  /// The first and second class of every row, ties to the lower class index (NumPy's stable
  /// `argsort(-p)`).
  /// - Parameters:
  ///   - probabilities: `[rows, classes]`, at least two classes.
  ///   - truth: true classes, when known.
  ///   - votes: the model's own decisions, when it has them.
  public static func rank(
    _ probabilities: Matrix, truth: [Int]? = nil, votes: [Int]? = nil
  ) -> [RankedPrediction] {
    precondition(probabilities.columns >= 2, "ranking needs at least two classes")
    return (0..<probabilities.rows).map { row in
      var first = 0
      var second = -1
      for c in 1..<probabilities.columns {
        let p = probabilities[row, c]
        if p > probabilities[row, first] {
          second = first
          first = c
        } else if second < 0 || p > probabilities[row, second] {
          second = c
        }
      }
      if second < 0 { second = first == 0 ? 1 : 0 }
      return RankedPrediction(
        row: row, truth: truth?[row], first: first, second: second,
        firstProbability: probabilities[row, first], secondProbability: probabilities[row, second],
        vote: votes?[row])
    }
  }

  /// The rows matching `query`, smallest margin first (ties by row).
  public static func find(_ ranked: [RankedPrediction], matching query: AmbiguityQuery)
    -> [RankedPrediction]
  {
    ranked.filter(query.matches).sorted { ($0.margin, $0.row) < ($1.margin, $1.row) }
  }
}

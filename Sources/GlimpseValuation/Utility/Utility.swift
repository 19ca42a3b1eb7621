import GlimpseCore

/// A cooperative game over the training points: U(S) for a subset S.
///
/// In data valuation U(S) is "train a model on S, score it on a validation set"
/// (`ModelUtility`); tests also use small closed-form games (`GameUtility`). Methods never see
/// models, only this protocol (pyDVL's cut between utility, sampler and method).
public protocol Utility: Sendable {
  /// The number of players (training points), indexed `0..<playerCount`.
  var playerCount: Int { get }

  /// U(S) for distinct player indices `subset` (any order). U(∅) is `value(of: [])`.
  func value(of subset: [Int]) -> Double

  /// A chain that grows a subset one player at a time, from `base`. Permutation methods walk
  /// chains; a utility whose model can be warm-started from the previous subset's fit (logistic
  /// regression) makes each step cheaper than a fresh `value(of:)`.
  func makeChain(from base: [Int]) -> any UtilityChain

  /// U(D∖{i}) for every player i (leave-one-out). By default `value(of:)` for each, in
  /// parallel; a model utility warm-starts each fit from the fit on all of D.
  func leaveOneOutValues() -> [Double]
}

extension Utility {
  /// U(D ∖ {i}) for every player i by `value(of:)`, in parallel.
  public func leaveOneOutValues() -> [Double] {
    let everyone = Array(0..<playerCount)
    return parallelMap(playerCount) { left in
      var subset = everyone
      subset.remove(at: left)
      return value(of: subset)
    }
  }
}

/// A subset grown one player at a time, with its utility after each step.
public protocol UtilityChain {
  /// U(current subset).
  var value: Double { get }
  /// Adds `player` and returns the new U.
  mutating func add(_ player: Int) -> Double
}

/// A chain that recomputes U from scratch at each step.
public struct RecomputingChain<U: Utility>: UtilityChain {
  let utility: U
  var members: [Int]
  /// U(current members).
  public private(set) var value: Double

  /// A chain of `utility` starting at `base`.
  public init(_ utility: U, from base: [Int]) {
    self.utility = utility
    members = base
    value = utility.value(of: base)
  }

  /// Adds `player` and returns U of the grown subset, recomputed from scratch.
  public mutating func add(_ player: Int) -> Double {
    members.append(player)
    value = utility.value(of: members)
    return value
  }
}

/// A utility given by a closure: closed-form games in tests and examples.
public struct GameUtility: Utility {
  /// The number of players.
  public let playerCount: Int
  let body: @Sendable ([Int]) -> Double

  /// - Parameter body: U(S); it receives the subset sorted ascending.
  public init(playerCount: Int, _ body: @escaping @Sendable ([Int]) -> Double) {
    self.playerCount = playerCount
    self.body = body
  }

  /// U(S): the closure applied to `subset` sorted ascending.
  public func value(of subset: [Int]) -> Double { body(subset.sorted()) }

  /// A chain that recomputes the closure at each step.
  public func makeChain(from base: [Int]) -> any UtilityChain { RecomputingChain(self, from: base) }
}

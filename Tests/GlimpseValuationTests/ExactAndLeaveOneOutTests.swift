import GlimpseCore
import Testing

@testable import GlimpseValuation

/// Closed-form games whose Shapley, Banzhaf and leave-one-out values are known by hand.
@Suite("Exact semivalues and leave-one-out on games solved by hand")
struct ExactAndLeaveOneOutTests {
  /// U(S) = (Σ_{i∈S} wᵢ)²: φᵢ = βᵢ = wᵢ·W with W = Σ w (the pairwise terms 2wᵢwⱼ split evenly).
  static let weights = [0.5, 1, 2, 0, 3]
  static let squaredSum = GameUtility(playerCount: weights.count) { subset in
    let sum = subset.reduce(0.0) { $0 + weights[$1] }
    return sum * sum
  }

  @Test("exact Shapley of U(S) = (Σ w)² is wᵢ · Σ w for each player, to 1e-12")
  func shapleyOfSquaredSumIsWeightTimesTotal() throws {
    let result = try ExactSemivalues.values(Self.squaredSum, kind: .shapley)
    let total = Self.weights.reduce(0, +)
    for (value, weight) in zip(result.values, Self.weights) {
      #expect(abs(value - weight * total) < 1e-12)
    }
    #expect(result.status == .exact)
  }

  @Test("exact Banzhaf of U(S) = (Σ w)² is wᵢ · Σ w for each player, to 1e-12")
  func banzhafOfSquaredSumIsWeightTimesTotal() throws {
    let result = try ExactSemivalues.values(Self.squaredSum, kind: .banzhaf)
    let total = Self.weights.reduce(0, +)
    for (value, weight) in zip(result.values, Self.weights) {
      #expect(abs(value - weight * total) < 1e-12)
    }
  }

  /// Three-player majority game (U = 1 when |S| ≥ 2): Shapley ⅓ each, Banzhaf ½ each (a player
  /// is pivotal for 2 of the 4 coalitions of the others).
  @Test("three-player majority game: Shapley ⅓ and Banzhaf ½ for every player")
  func majorityGameShapleyAndBanzhaf() throws {
    let majority = GameUtility(playerCount: 3) { $0.count >= 2 ? 1 : 0 }
    let shapley = try ExactSemivalues.values(majority, kind: .shapley)
    let banzhaf = try ExactSemivalues.values(majority, kind: .banzhaf)
    for value in shapley.values { #expect(abs(value - 1.0 / 3) < 1e-15) }
    for value in banzhaf.values { #expect(abs(value - 0.5) < 1e-15) }
  }

  /// Efficiency (Σφ = U(N) − U(∅)), symmetry (interchangeable players get equal values) and the
  /// null player (0) on a random non-additive game.
  @Test(
    "exact Shapley satisfies efficiency, symmetry and the null-player axiom on a random 7-player game"
  )
  func shapleyAxiomsOnARandomGame() throws {
    var rng = SeededGenerator(seed: 11)
    let n = 7
    // Players 0 and 1 are interchangeable; player 6 never changes U.
    let table = (0..<(1 << n)).map { _ in Double.random(in: 0...1, using: &rng) }
    let game = GameUtility(playerCount: n) { subset in
      var mask = subset.reduce(0) { $0 | (1 << $1) } & ~(1 << 6)
      if mask & 0b11 == 0b10 { mask ^= 0b11 }  // {1} ∪ T counts as {0} ∪ T
      return table[mask]
    }
    let result = try ExactSemivalues.values(game, kind: .shapley)
    let sum = result.values.reduce(0, +)
    #expect(abs(sum - (game.value(of: Array(0..<n)) - game.value(of: []))) < 1e-12)
    #expect(abs(result.values[0] - result.values[1]) < 1e-12)
    #expect(abs(result.values[6]) < 1e-12)
  }

  @Test("exact enumeration refuses more than 20 points with a ValuationError")
  func enumerationRefusesMoreThanTwentyPoints() {
    let game = GameUtility(playerCount: 21) { Double($0.count) }
    #expect(throws: ValuationError.self) { try ExactSemivalues.values(game, kind: .shapley) }
  }

  /// Leave-one-out of an additive game is each weight; of two redundant players, 0 for both.
  @Test("leave-one-out gives each weight of an additive game and 0 to two redundant players")
  func leaveOneOutOfHandSolvableGames() {
    let additive = GameUtility(playerCount: 4) { subset in
      subset.reduce(0.0) { $0 + Double($1 + 1) }
    }
    #expect(LeaveOneOut.values(additive).values == [1, 2, 3, 4])
    let redundant = GameUtility(playerCount: 3) { subset in
      (subset.contains(0) || subset.contains(1) ? 1 : 0) + (subset.contains(2) ? 0.5 : 0)
    }
    #expect(LeaveOneOut.values(redundant).values == [0, 0, 0.5])
  }
}

import GlimpseCore

/// Shapley and Banzhaf values by enumerating every subset: the reference the Monte Carlo
/// methods are tested against.
///
/// With U known on all 2ⁿ subsets,
///
///     φᵢ = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (U(S ∪ {i}) − U(S))   (Shapley 1953)
///     βᵢ = 2^−(n−1) Σ_{S ⊆ N∖{i}} (U(S ∪ {i}) − U(S))                   (Banzhaf 1965)
///
/// Utilities are evaluated in parallel, once per subset.
public enum ExactSemivalues {
  /// The most points enumeration accepts (2²⁰ ≈ 10⁶ utility evaluations).
  public static let maximumPlayers = 20

  /// Which semivalue: Shapley (1953) or Banzhaf (1965) weights.
  public enum Kind: String, Sendable { case shapley, banzhaf }

  /// U on every subset, indexed by bit mask (bit i = player i).
  public static func subsetValues(_ utility: some Utility) throws(ValuationError) -> [Double] {
    let n = utility.playerCount
    guard n <= maximumPlayers else {
      throw .invalidSetting("exact enumeration takes at most \(maximumPlayers) points, got \(n)")
    }
    return parallelMap(1 << n) { mask in
      utility.value(of: (0..<n).filter { mask & (1 << $0) != 0 })
    }
  }

  /// The exact values of every player.
  /// - Throws: `ValuationError.invalidSetting` above `maximumPlayers` points.
  public static func values(_ utility: some Utility, kind: Kind) throws(ValuationError)
    -> ValuationResult
  {
    let n = utility.playerCount
    let table = try subsetValues(utility)
    // Shapley weight of a coalition of size s not containing i: s!(n−s−1)!/n!.
    var weights = [Double](repeating: 0, count: max(n, 1))
    for size in 0..<n {
      switch kind {
      case .shapley: weights[size] = 1 / (Double(n) * binomial(n - 1, size))
      case .banzhaf: weights[size] = 1 / Double(1 << (n - 1))
      }
    }
    var values = [Double](repeating: 0, count: n)
    for mask in 0..<(1 << n) {
      let size = mask.nonzeroBitCount
      for player in 0..<n where mask & (1 << player) == 0 {
        values[player] += weights[size] * (table[mask | (1 << player)] - table[mask])
      }
    }
    let name = kind == .shapley ? "exact" : "exact-banzhaf"
    return .exact(method: name, values: values, samplesPerPoint: 1 << max(n - 1, 0))
  }

  static func binomial(_ n: Int, _ k: Int) -> Double {
    var result = 1.0
    for j in 0..<k { result = result * Double(n - j) / Double(j + 1) }
    return result
  }
}

import GlimpseCore

/// Shapley, Banzhaf and Beta semivalues by enumerating every subset: the reference the Monte
/// Carlo methods are tested against.
///
/// With U known on all 2ⁿ subsets,
///
///     φᵢ = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (U(S ∪ {i}) − U(S))   (Shapley 1953)
///     βᵢ = 2^−(n−1) Σ_{S ⊆ N∖{i}} (U(S ∪ {i}) − U(S))                   (Banzhaf 1965)
///     ψᵢ = Σ_{S ⊆ N∖{i}} w_{α,β}(n, |S|) (U(S ∪ {i}) − U(S))             (Kwon & Zou 2022)
///
/// with the Beta(α, β) weight w_{α,β}(n, k) = B(k + β, n − k − 1 + α) / B(α, β) (pyDVL 0.10's
/// `BetaShapleyValuation.log_coefficient` times its sampler's weight; eq. (5) of Kwon & Zou
/// without its factor n). Beta(1, 1) is Shapley.
///
/// Utilities are evaluated in parallel, once per subset.
public enum ExactSemivalues {
  /// The most points enumeration accepts (2²⁰ ≈ 10⁶ utility evaluations).
  public static let maximumPlayers = 20

  /// Which semivalue: Shapley (1953), Banzhaf (1965) or Beta(α, β) (Kwon & Zou 2022) weights.
  public enum Kind: Sendable, Equatable {
    /// Shapley weights |S|!(n − |S| − 1)!/n!.
    case shapley
    /// Banzhaf weights 2^−(n−1).
    case banzhaf
    /// Beta Shapley weights B(|S| + β, n − |S| − 1 + α) / B(α, β).
    case beta(alpha: Double, beta: Double)

    /// The method name the result carries: `exact`, `exact-banzhaf` or `exact-beta`.
    public var methodName: String {
      switch self {
      case .shapley: "exact"
      case .banzhaf: "exact-banzhaf"
      case .beta: "exact-beta"
      }
    }

    /// The weight of a coalition of `size` players not containing the valued one, among `n`.
    public func weight(playerCount n: Int, size: Int) -> Double {
      switch self {
      case .shapley: 1 / (Double(n) * ExactSemivalues.binomial(n - 1, size))
      case .banzhaf: 1 / Double(1 << (n - 1))
      case .beta(let alpha, let beta):
        BetaSemivalue(alpha: alpha, beta: beta).weight(playerCount: n, size: size)
      }
    }
  }

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
    var weights = [Double](repeating: 0, count: max(n, 1))
    for size in 0..<n { weights[size] = kind.weight(playerCount: n, size: size) }
    var values = [Double](repeating: 0, count: n)
    for mask in 0..<(1 << n) {
      let size = mask.nonzeroBitCount
      for player in 0..<n where mask & (1 << player) == 0 {
        values[player] += weights[size] * (table[mask | (1 << player)] - table[mask])
      }
    }
    return .exact(method: kind.methodName, values: values, samplesPerPoint: 1 << max(n - 1, 0))
  }

  static func binomial(_ n: Int, _ k: Int) -> Double {
    var result = 1.0
    for j in 0..<k { result = result * Double(n - j) / Double(j + 1) }
    return result
  }
}

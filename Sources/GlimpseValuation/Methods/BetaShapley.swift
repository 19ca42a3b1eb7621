#if canImport(Glibc)
  import Glibc
#else
  import Foundation
#endif

// Implementation notes
// 1. The weights follow pyDVL 0.10 (`BetaShapleyValuation.log_coefficient` with a
//    `PermutationSampler`): the semivalue weight of a coalition of k points is
//    w(n, k) = B(k + β, n − k − 1 + α) / B(α, β); a permutation puts k points before the valued
//    one with probability 1 / (n · C(n − 1, k)) for each such coalition, so the marginal at
//    position k is multiplied by n · C(n − 1, k) · w(n, k), computed in logs (lgamma) because
//    both factors overflow for n in the thousands.
// 2. The walk is TMC's (`TruncatedMonteCarloShapley.marginals`), truncation included: a truncated
//    marginal is 0 whatever its weight.

/// The Beta(α, β) semivalue weights of Kwon & Zou (2022), "Beta Shapley: a Unified and
/// Noise-reduced Data Valuation Framework for Machine Learning", AISTATS, eq. (5).
public struct BetaSemivalue: Sendable, Equatable {
  /// α: with α > β the weights favour small coalitions (Beta(16, 1), the paper's choice).
  public var alpha: Double
  /// β: with β > α the weights favour large coalitions.
  public var beta: Double

  /// Beta(α, β) weights; Beta(1, 1) is Shapley.
  public init(alpha: Double = 16, beta: Double = 1) {
    precondition(alpha > 0 && beta > 0, "Beta(\(alpha), \(beta)) needs α > 0 and β > 0")
    self.alpha = alpha
    self.beta = beta
  }

  /// w(n, k) = B(k + β, n − k − 1 + α) / B(α, β): the weight of one coalition of `size` = k
  /// points not containing the valued one, among `n` players. Over all coalitions they sum to 1.
  public func weight(playerCount n: Int, size k: Int) -> Double {
    exp(
      Self.logBeta(Double(k) + beta, Double(n - k - 1) + alpha) - Self.logBeta(alpha, beta))
  }

  /// The factor of the marginal at position k of a uniform permutation: n · C(n − 1, k) · w(n, k),
  /// so that the mean over permutations is the semivalue (all 1 for Beta(1, 1), up to rounding).
  public func permutationWeight(playerCount n: Int, position k: Int) -> Double {
    let logBinomial =
      lgamma(Double(n)) - lgamma(Double(k + 1)) - lgamma(Double(n - k))
    return exp(
      log(Double(n)) + logBinomial + Self.logBeta(Double(k) + beta, Double(n - k - 1) + alpha)
        - Self.logBeta(alpha, beta))
  }

  /// The factors of every position of a permutation of `n` players.
  public func permutationWeights(playerCount n: Int) -> [Double] {
    (0..<n).map { permutationWeight(playerCount: n, position: $0) }
  }

  static func logBeta(_ a: Double, _ b: Double) -> Double { lgamma(a) + lgamma(b) - lgamma(a + b) }
}

/// Beta Shapley by permutations (Kwon & Zou 2022): TMC's walk with each marginal weighted by
/// `BetaSemivalue.permutationWeight` of its position, as pyDVL 0.10's
/// `BetaShapleyValuation(utility, PermutationSampler(truncation), ...)`.
public struct BetaShapley: Sendable {
  /// The semivalue's weights (default Beta(16, 1)).
  public var semivalue: BetaSemivalue
  /// The permutation walk: truncation, burn-in and seed, as `--method tmc`.
  public var walk: TruncatedMonteCarloShapley

  /// Beta Shapley with `semivalue` weights over `walk`'s permutations.
  public init(
    semivalue: BetaSemivalue = BetaSemivalue(), walk: TruncatedMonteCarloShapley = .init()
  ) {
    self.semivalue = semivalue
    self.walk = walk
  }

  /// Runs (or resumes) the estimate.
  public func run(
    _ utility: some Utility, from state: MonteCarloState? = nil, fingerprint: String = "beta",
    options: MonteCarloOptions,
    checkpoint: @escaping @Sendable (MonteCarloState) -> Void = { _ in },
    progress: @escaping @Sendable (MonteCarloProgress) -> Void = { _ in }
  ) -> (ValuationResult, MonteCarloState) {
    let n = utility.playerCount
    let total = utility.value(of: Array(0..<n))
    let start =
      state ?? MonteCarloState(fingerprint: fingerprint, pointCount: n, channelCount: 1)
    let sample = walk.marginals(
      utility, totalUtility: total, positionWeights: semivalue.permutationWeights(playerCount: n))
    let final = MonteCarloRunner.run(
      from: start, options: options, sample: sample, checkpoint: checkpoint, progress: progress)
    return (Self.result(final), final)
  }

  /// The values held by a state (of this method).
  public static func result(_ state: MonteCarloState) -> ValuationResult {
    ValuationResult(
      method: "beta", accumulator: state.accumulator, status: state.status ?? .interrupted,
      totalSamples: state.completed.count)
  }
}

/// Truncated Monte Carlo Shapley (Ghorbani & Zou 2019, "Data Shapley", Alg. 1).
///
/// Each sample is a random permutation π of the training points. Walking it, point πⱼ gets the
/// marginal contribution U({π₁…πⱼ}) − U({π₁…πⱼ₋₁}); the value is the mean over permutations, an
/// unbiased estimate of the Shapley value. Once the running utility is within a relative
/// tolerance of U(D), the remaining points of the permutation get 0 without training a model
/// ("performance tolerance"): pyDVL's `RelativeTruncation(rtol, burn_in_fraction)`, which
/// checks |U(S) − U(D)| ≤ 1e-8 + rtol·|U(D)| (numpy's `allclose`) once at least
/// `burnInFraction · n` points have been added. Chains warm-start each fit from the previous one.
public struct TruncatedMonteCarloShapley: Sendable {
  /// Relative tolerance of the truncation; `nil` never truncates (plain permutation Shapley).
  public var truncationTolerance: Double?
  /// Fraction of a permutation walked before truncation is considered.
  public var burnInFraction: Double
  /// The job's seed; permutation `j` is drawn from its stream `j`.
  public var seed: UInt64

  /// TMC with pyDVL's defaults (rtol 0.01, burn-in 0.4).
  public init(truncationTolerance: Double? = 0.01, burnInFraction: Double = 0.4, seed: UInt64 = 0) {
    self.truncationTolerance = truncationTolerance
    self.burnInFraction = burnInFraction
    self.seed = seed
  }

  /// The sample function for `MonteCarloRunner`: permutation `j`'s marginal contributions.
  /// - Parameter totalUtility: U(D), for truncation (compute it once per job).
  public func marginals(_ utility: some Utility, totalUtility: Double)
    -> @Sendable (Int) -> [SampleUpdate]
  {
    marginals(utility, totalUtility: totalUtility, positionWeights: nil)
  }

  /// Permutation `j`'s marginal contributions, the one at position p (p points before it)
  /// multiplied by `positionWeights[p]` when given (Beta Shapley's importance weights).
  func marginals(_ utility: some Utility, totalUtility: Double, positionWeights: [Double]?)
    -> @Sendable (Int) -> [SampleUpdate]
  {
    let sampler = PermutationSampler(seed: seed)
    let players = Array(0..<utility.playerCount)
    let tolerance = truncationTolerance
    let burnIn = burnInFraction * Double(players.count)
    return { sample in
      let permutation = sampler.permutation(sample, of: players)
      var chain = utility.makeChain(from: [])
      var previous = chain.value
      var truncated = false
      var updates: [SampleUpdate] = []
      updates.reserveCapacity(permutation.count)
      for (step, player) in permutation.enumerated() {
        guard !truncated else {
          updates.append(SampleUpdate(point: player, value: 0))
          continue
        }
        // A time limit ends the walk between fits (the runner drops a cut-short sample).
        if MonteCarloRunner.sampleShouldStop { return [] }
        let current = chain.add(player)
        let marginal = current - previous
        updates.append(
          SampleUpdate(
            point: player, value: positionWeights.map { $0[step] * marginal } ?? marginal))
        previous = current
        if let tolerance, Double(step + 1) >= burnIn,
          abs(current - totalUtility) <= 1e-8 + tolerance * abs(totalUtility)
        {
          truncated = true
        }
      }
      return updates
    }
  }

  /// Runs (or resumes) the estimate.
  public func run(
    _ utility: some Utility, from state: MonteCarloState? = nil, fingerprint: String = "tmc",
    options: MonteCarloOptions,
    checkpoint: @escaping @Sendable (MonteCarloState) -> Void = { _ in },
    progress: @escaping @Sendable (MonteCarloProgress) -> Void = { _ in }
  ) -> (ValuationResult, MonteCarloState) {
    let total = utility.value(of: Array(0..<utility.playerCount))
    let start =
      state
      ?? MonteCarloState(fingerprint: fingerprint, pointCount: utility.playerCount, channelCount: 1)
    let final = MonteCarloRunner.run(
      from: start, options: options, sample: marginals(utility, totalUtility: total),
      checkpoint: checkpoint, progress: progress)
    return (Self.result(final), final)
  }

  /// The values held by a state (of this method).
  public static func result(_ state: MonteCarloState) -> ValuationResult {
    ValuationResult(
      method: "tmc", accumulator: state.accumulator, status: state.status ?? .interrupted,
      totalSamples: state.completed.count)
  }
}

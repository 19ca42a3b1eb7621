/// Data Banzhaf by maximum sample reuse (Wang & Jia 2023, "Data Banzhaf", Alg. 1).
///
/// Each sample is a subset S drawn uniformly from the power set (every point in with
/// probability ½) and costs one utility evaluation, which every point reuses: point i's value
/// is the mean of U(S) over samples with i ∈ S minus the mean over samples with i ∉ S, an
/// estimate of the Banzhaf value βᵢ = 2^−(n−1) Σ_{S∌i} (U(S∪{i}) − U(S)) (eq. 6). Channel 0 of
/// the accumulator holds the "with" utilities, channel 1 the "without".
public struct MaximumSampleReuseBanzhaf: Sendable {
  /// The job's seed; subset `j` is drawn from its stream `j`.
  public var seed: UInt64

  /// Banzhaf estimation with subsets drawn from `seed`.
  public init(seed: UInt64 = 0) { self.seed = seed }

  /// The sample function for `MonteCarloRunner`: subset `j`'s utility, on channel 0 for its
  /// members and channel 1 for the others.
  public func samples(_ utility: some Utility) -> @Sendable (Int) -> [SampleUpdate] {
    let sampler = UniformSubsetSampler(seed: seed)
    let n = utility.playerCount
    return { sample in
      let membership = sampler.membership(sample, count: n)
      let value = utility.value(of: (0..<n).filter { membership[$0] })
      return (0..<n).map { SampleUpdate(point: $0, value: value, channel: membership[$0] ? 0 : 1) }
    }
  }

  /// Runs (or resumes from `state`) the estimate; returns the values and the final state.
  public func run(
    _ utility: some Utility, from state: MonteCarloState? = nil, fingerprint: String = "banzhaf",
    options: MonteCarloOptions,
    checkpoint: @escaping @Sendable (MonteCarloState) -> Void = { _ in },
    progress: @escaping @Sendable (MonteCarloProgress) -> Void = { _ in }
  ) -> (ValuationResult, MonteCarloState) {
    let start =
      state
      ?? MonteCarloState(fingerprint: fingerprint, pointCount: utility.playerCount, channelCount: 2)
    let final = MonteCarloRunner.run(
      from: start, options: options, sample: samples(utility), checkpoint: checkpoint,
      progress: progress)
    return (Self.result(final), final)
  }

  /// The values held by a state of this method: the mean with minus the mean without.
  public static func result(_ state: MonteCarloState) -> ValuationResult {
    ValuationResult(
      method: "banzhaf", accumulator: state.accumulator, status: state.status ?? .interrupted,
      totalSamples: state.completed.count)
  }
}

/// The values of a run, and the Monte Carlo state it ended in (for sampled methods).
public struct ValuationOutcome: Sendable {
  /// One value per training point.
  public var result: ValuationResult
  /// The final state of a sampled method (what its last checkpoint holds); `nil` for one-pass
  /// methods.
  public var state: MonteCarloState?
}

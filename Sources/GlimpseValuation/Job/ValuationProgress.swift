/// How far a running valuation is, for progress bars.
public enum ValuationProgress: Sendable {
  /// A one-pass method's fraction done, in [0, 1].
  case fractionDone(Double)
  /// A sampled method's samples, rate and standard errors.
  case sampling(MonteCarloProgress)
}

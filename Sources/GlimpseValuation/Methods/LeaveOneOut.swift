/// Leave-one-out: a point's value is what the utility loses without it, U(D) − U(D∖{i})
/// (Koh & Liang 2017 use it as the baseline influence; Ghorbani & Zou 2019, §4, compare with it).
public enum LeaveOneOut {
  /// Exact: n + 1 utility evaluations (warm-started for model utilities).
  public static func values(_ utility: some Utility) -> ValuationResult {
    let full = utility.value(of: Array(0..<utility.playerCount))
    let without = utility.leaveOneOutValues()
    return .exact(method: "loo", values: without.map { full - $0 }, samplesPerPoint: 1)
  }
}

import GlimpseCore

/// How well low values find known-bad points (flipped labels), as the anchors measure it.
public struct NoiseDetection: Sendable, Equatable {
  /// ROC AUC of −value against the bad-point mask (ties count ½, the Mann–Whitney statistic,
  /// as scikit-learn's `roc_auc_score`).
  public var rocAUC: Double
  /// How many of the lowest ⌈10 %⌉ of points (stable sort: ties to the lower index) are bad.
  public var lowestTenPercentHits: Int
  /// How many points the lowest 10 % holds: ⌈n / 10⌉.
  public var lowestTenPercentCount: Int
  /// How many points are bad (flipped).
  public var badCount: Int

  /// The fraction of the lowest 10 % that is bad (precision at 10 %).
  public var precisionAtTenPercent: Double {
    Double(lowestTenPercentHits) / Double(max(1, lowestTenPercentCount))
  }
  /// The fraction of the bad points found in the lowest 10 % (recall at 10 %).
  public var recallAtTenPercent: Double { Double(lowestTenPercentHits) / Double(max(1, badCount)) }

  /// Measures `values` (one per point) against `bad` (one flag per point).
  public init(values: [Double], bad: [Bool]) {
    precondition(values.count == bad.count, "one flag per value")
    let n = values.count
    badCount = bad.count { $0 }
    // AUC of score = −value: the probability a bad point has a lower value than a good one.
    let ranks = RankCorrelation.averageRanks(values.map { -$0 })
    let positives = Double(badCount)
    let negatives = Double(n - badCount)
    let rankSum = zip(ranks, bad).reduce(0.0) { $0 + ($1.1 ? $1.0 : 0) }
    rocAUC =
      positives == 0 || negatives == 0
      ? .nan : (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
    let k = (n + 9) / 10
    let order = values.indices.sorted {
      values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1)
    }
    lowestTenPercentCount = k
    lowestTenPercentHits = order.prefix(k).count { bad[$0] }
  }
}

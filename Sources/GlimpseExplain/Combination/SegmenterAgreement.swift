import GlimpseCore

/// How much explanations from different segmenters agree: the mean Spearman rank correlation
/// over all pairs of their per-pixel weight maps.
///
/// Ranks of tied values are averaged (scipy's `spearmanr`), which matters here: a map is
/// constant over each segment. A constant map has no ranking and correlates 0 with anything.
/// 1 means the segmenters rank pixels identically; values near 0 (0.12–0.29 for the seed's six
/// segmenters in the reference run) mean the explanation depends on how the image is cut.
public enum SegmenterAgreement {
  /// The mean off-diagonal rank correlation, or `nil` with fewer than two maps.
  public static func meanRankCorrelation(_ maps: [WeightMap]) -> Double? {
    guard maps.count >= 2 else { return nil }
    let ranks = maps.map { RankCorrelation.averageRanks($0.values) }
    var total = 0.0
    var pairs = 0
    for i in 0..<ranks.count {
      for j in (i + 1)..<ranks.count {
        total += RankCorrelation.pearson(ranks[i], ranks[j])
        pairs += 1
      }
    }
    return total / Double(pairs)
  }

  /// The matrix of pairwise rank correlations, `[maps][maps]`, 1 on the diagonal.
  public static func rankCorrelations(_ maps: [WeightMap]) -> [[Double]] {
    let ranks = maps.map { RankCorrelation.averageRanks($0.values) }
    return ranks.indices.map { i in
      ranks.indices.map { j in i == j ? 1 : RankCorrelation.pearson(ranks[i], ranks[j]) }
    }
  }
}

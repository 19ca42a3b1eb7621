/// Rank statistics shared by explanation agreement and valuation stopping rules.
public enum RankCorrelation {
  /// Ranks 1…n with ties given their average rank (scipy's `rankdata(method="average")`).
  public static func averageRanks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
      var end = start
      while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
      let rank = Double(start + end) / 2 + 1
      for k in start...end { ranks[order[k]] = rank }
      start = end + 1
    }
    return ranks
  }

  /// Pearson's correlation; 0 when either side is constant (it has no ordering to agree with).
  public static func pearson(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "pearson needs equal lengths")
    let n = Double(a.count)
    guard n > 0 else { return 0 }
    let meanA = a.reduce(0, +) / n
    let meanB = b.reduce(0, +) / n
    var covariance = 0.0
    var varianceA = 0.0
    var varianceB = 0.0
    for (x, y) in zip(a, b) {
      covariance += (x - meanA) * (y - meanB)
      varianceA += (x - meanA) * (x - meanA)
      varianceB += (y - meanB) * (y - meanB)
    }
    guard varianceA > 0, varianceB > 0 else { return 0 }
    return covariance / (varianceA * varianceB).squareRoot()
  }

  /// Spearman's rank correlation with average ranks for ties (`scipy.stats.spearmanr`).
  public static func spearman(_ a: [Double], _ b: [Double]) -> Double {
    pearson(averageRanks(a), averageRanks(b))
  }
}

import GlimpseCore

// Implementation notes
// How much an explanation depends on its random draws: the same image, segmentation and
// method explained with N seeds, compared pairwise. Two figures, each the mean over the
// N(N − 1)/2 pairs of runs: the Jaccard index |A ∩ B| / |A ∪ B| of the top-k segments (the k
// largest weights of the first class, ties by segment number), and Spearman's ρ of the
// per-pixel maps (ranks of ties averaged, as `SegmenterAgreement`). 1 and 1: the seed does not
// matter (exhaustive KernelSHAP is deterministic and always gets 1).

/// How stable one segmenter's explanation is across seeds.
public struct ExplanationStability: Sendable, Equatable, Codable {
  /// Number of runs compared.
  public var runs: Int
  /// Segments in each run's top set.
  public var topK: Int
  /// Mean pairwise Jaccard index of the runs' top-k segments.
  public var topKJaccard: Double
  /// Mean pairwise Spearman ρ of the runs' per-pixel maps.
  public var spearman: Double

  /// The stability of explanations of one image under one segmentation (at least two, all with
  /// the same segments), for explained class number `label`; top sets of `topK` segments
  /// (capped at the segment count).
  public init(_ explanations: [ImageExplanation], label: Int = 0, topK: Int = 5) {
    precondition(explanations.count >= 2, "stability compares at least two runs")
    let k = min(max(topK, 1), explanations[0].segments.count)
    let tops = explanations.map {
      Set(DeletionInsertionCurves.order($0.weights[label]).prefix(k))
    }
    let ranks = explanations.map { RankCorrelation.averageRanks($0.pixelWeights(label)) }
    var jaccard = 0.0
    var rho = 0.0
    var pairs = 0
    for i in 0..<explanations.count {
      for j in (i + 1)..<explanations.count {
        jaccard += Self.jaccard(tops[i], tops[j])
        rho += RankCorrelation.pearson(ranks[i], ranks[j])
        pairs += 1
      }
    }
    runs = explanations.count
    self.topK = k
    topKJaccard = jaccard / Double(pairs)
    spearman = rho / Double(pairs)
  }

  /// |a ∩ b| / |a ∪ b| (1 for two empty sets).
  public static func jaccard(_ a: Set<Int>, _ b: Set<Int>) -> Double {
    let union = a.union(b).count
    return union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
  }
}

import GlimpseCore

extension ExplanationSidecar {
  /// The segmenters with faithfulness curves ranked best first: by deletion AUC (lower is
  /// better) and by insertion AUC (higher is better). Ties keep the segmenters' order.
  public var faithfulnessRanking: (deletion: [Segmentation], insertion: [Segmentation]) {
    let measured = segmenters.enumerated().compactMap { index, s in
      s.faithfulness.map { (index: index, segmentation: s, curves: $0) }
    }
    let deletion = measured.sorted {
      ($0.curves.deletionAUC, $0.index) < ($1.curves.deletionAUC, $1.index)
    }
    let insertion = measured.sorted {
      (-$0.curves.insertionAUC, $0.index) < (-$1.curves.insertionAUC, $1.index)
    }
    return (deletion.map(\.segmentation), insertion.map(\.segmentation))
  }

  /// The console lines of `faithfulnessRanking`, a heading and one line per segmenter in
  /// deletion order: `  1. grid:7  deletion 0.120  insertion 0.810 (rank 2)`; empty without
  /// curves.
  public var faithfulnessRankingLines: [String] {
    let (deletion, insertion) = faithfulnessRanking
    guard let explained = deletion.first?.faithfulness?.explained else { return [] }
    let width = deletion.map(\.spec.count).max() ?? 0
    var lines = [
      "faithfulness for \(explained), segmenters by deletion AUC (lower is better; insertion AUC: higher is better):"
    ]
    for (rank, s) in deletion.enumerated() {
      guard let f = s.faithfulness else { continue }
      let insertionRank = (insertion.firstIndex { $0.spec == s.spec } ?? 0) + 1
      let padded = s.spec + String(repeating: " ", count: width - s.spec.count)
      lines.append(
        "  \(rank + 1). \(padded)  deletion \(formatFixed(f.deletionAUC, digits: 3))"
          + "  insertion \(formatFixed(f.insertionAUC, digits: 3)) (rank \(insertionRank))")
    }
    return lines
  }
}

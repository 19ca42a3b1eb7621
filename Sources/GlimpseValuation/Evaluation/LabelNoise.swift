import GlimpseCore

/// Synthetic label noise: how detection quality is measured when no flipped labels are known.
///
/// As DShap's and pyDVL's noisy-label experiments (Ghorbani & Zou 2019, §5): a share of the
/// training points, drawn at random, get another class drawn uniformly from the other
/// classes; a good valuation gives them the lowest values (scored by `NoiseDetection`).
public enum LabelNoise {
  /// `labels` with `max(1, count / 10)`-style flips: `flipCount` rows drawn by a seeded shuffle
  /// (the first rows of `shuffled(using:)`), each given a different class drawn uniformly from
  /// the other `classCount − 1`, in the shuffled order. Returns the noisy labels and which
  /// rows were flipped.
  public static func flipped(
    _ labels: [Int], classCount: Int, flipCount: Int, using rng: inout some RandomNumberGenerator
  ) -> (labels: [Int], flipped: [Bool]) {
    precondition(classCount >= 2, "flipping a label needs at least two classes")
    precondition((0...labels.count).contains(flipCount), "flipCount must lie in 0…\(labels.count)")
    var noisy = labels
    var flipped = [Bool](repeating: false, count: labels.count)
    let rows = Array(0..<labels.count).shuffled(using: &rng).prefix(flipCount)
    for row in rows {
      // 1 … classCount − 1 classes ahead, modulo: any class but its own, each as likely.
      let step = 1 + Int(rng.next(upperBound: UInt64(classCount - 1)))
      noisy[row] = (noisy[row] + step) % classCount
      flipped[row] = true
    }
    return (noisy, flipped)
  }
}

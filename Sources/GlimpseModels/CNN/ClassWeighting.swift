/// How the classes of a training set are weighted in the loss.
///
/// Weights enter as PyTorch's `CrossEntropyLoss(weight=w)` applies them: a batch's loss is the
/// weighted mean `Σₙ w_{yₙ} lₙ / Σₙ w_{yₙ}`, so the weights change the balance between classes,
/// not the scale of the step (`SoftmaxCrossEntropy.lossAndGradient(_:labels:classWeights:)`).
public enum ClassWeighting: String, Sendable, Codable, CaseIterable {
  /// Every image counts the same.
  case none
  /// scikit-learn's `class_weight="balanced"`: `w_c = n / (k · n_c)` for `n` training rows,
  /// `k` classes present and `n_c` rows of class `c`, so every class carries the same total
  /// weight (`compute_class_weight`; scikit-learn credits the heuristic to King & Zeng,
  /// "Logistic Regression in Rare Events Data", Political Analysis 9, 2001).
  case balanced

  /// The weight of every class for training rows with these `labels`, in class order; `nil`
  /// for `.none` (the unweighted loss, bit for bit). A class with no row gets weight 0: it
  /// never appears in a training batch, and it does not count in `k`.
  public func weights(labels: some Collection<Int>, classCount: Int) -> [Float]? {
    switch self {
    case .none:
      return nil
    case .balanced:
      var counts = [Int](repeating: 0, count: classCount)
      for label in labels { counts[label] += 1 }
      let present = counts.filter { $0 > 0 }.count
      let n = Double(labels.count)
      return counts.map { $0 > 0 ? Float(n / (Double(present) * Double($0))) : 0 }
    }
  }
}

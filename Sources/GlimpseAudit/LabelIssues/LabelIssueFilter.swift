/// How confident learning turns the confident joint into a set of label issues, named as
/// cleanlab's `find_label_issues(filter_by=...)` names them.
public enum LabelIssueFilter: String, Sendable, CaseIterable, Codable {
  /// For each off-diagonal cell (given `k`, true `j`) of the calibrated joint, that many rows
  /// labelled `k` with the largest margin `p_j − p_k` (Northcutt et al. 2021, "C_confusion"
  /// pruned by noise rate, PBNR). cleanlab's default.
  case pruneByNoiseRate = "prune_by_noise_rate"
  /// For each class `k`, the `n_k − C[k][k]` rows labelled `k` with the lowest `p_k` (PBC).
  case pruneByClass = "prune_by_class"
  /// Rows flagged by both `prune_by_noise_rate` and `prune_by_class`.
  case both
  /// The rows counted off the diagonal of the confident joint (C_confusion).
  case confidentLearning = "confident_learning"
  /// Rows whose most probable class is not the given label.
  case predictedNeqGiven = "predicted_neq_given"
  /// As many rows as `confident_learning` flags, those of lowest self-confidence (the
  /// probability of the given label).
  case lowSelfConfidence = "low_self_confidence"
  /// As many rows as `confident_learning` flags, those of lowest normalised margin
  /// `(p_given − max p_other + 1) / 2`.
  case lowNormalizedMargin = "low_normalized_margin"

  /// Whether `frac_noise` and `num_to_remove_per_class` apply (the pruning filters).
  public var prunes: Bool {
    switch self {
    case .pruneByNoiseRate, .pruneByClass, .both: true
    case .confidentLearning, .predictedNeqGiven, .lowSelfConfidence, .lowNormalizedMargin: false
    }
  }
}

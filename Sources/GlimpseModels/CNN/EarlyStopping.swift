/// Early stopping on a validation loss: which epoch to keep, and when to stop.
///
/// The rule of Keras' `EarlyStopping(monitor="val_loss", patience=p,
/// restore_best_weights=True)` with `min_delta=0`: an epoch improves when its validation loss
/// is strictly lower than every earlier one (a tie keeps the earlier epoch, a NaN never
/// improves); training stops once `patience` epochs in a row have not improved, and the
/// weights of the best epoch are the model's. Prechelt, "Early Stopping — But When?", in
/// Neural Networks: Tricks of the Trade, 1998, compares such criteria and recommends keeping
/// the network of the best validation error, as here.
///
/// A value fed one loss per epoch, so the rule is tested on scripted sequences without
/// training anything.
public struct EarlyStopping: Sendable, Equatable {
  /// Non-improving epochs in a row that end training; 0: never stop early.
  public let patience: Int
  /// The best epoch so far (0-based), `nil` until an epoch has a loss that is not NaN.
  public private(set) var bestEpoch: Int?
  /// The lowest validation loss so far (`+∞` before the first).
  public private(set) var bestLoss = Double.infinity
  /// Epochs since the best one (or since the start, when there is none yet).
  public private(set) var epochsWithoutImprovement = 0
  /// Epochs recorded.
  public private(set) var epochs = 0

  /// What to do after an epoch.
  public enum Decision: Sendable, Equatable {
    /// The epoch is the best so far: keep its weights and go on.
    case improved
    /// Not better: go on.
    case keepGoing
    /// Not better, and `patience` epochs in a row were not: stop.
    case stop
  }

  /// A rule with the given patience (≥ 0).
  public init(patience: Int) {
    precondition(patience >= 0, "patience \(patience) < 0")
    self.patience = patience
  }

  /// Records the next epoch's validation loss.
  public mutating func record(_ loss: Double) -> Decision {
    let epoch = epochs
    epochs += 1
    // The first epoch with a number (even +∞) becomes the best, so a model is always kept.
    if loss < bestLoss || (bestEpoch == nil && !loss.isNaN) {
      bestLoss = loss
      bestEpoch = epoch
      epochsWithoutImprovement = 0
      return .improved
    }
    epochsWithoutImprovement += 1
    return patience > 0 && epochsWithoutImprovement >= patience ? .stop : .keepGoing
  }

  /// The epoch (0-based) these losses keep under the rule (the first lowest non-NaN one), or
  /// `nil` when every loss is NaN or there are none.
  public static func bestEpoch(of losses: some Sequence<Double>) -> Int? {
    var rule = EarlyStopping(patience: 0)
    for loss in losses { _ = rule.record(loss) }
    return rule.bestEpoch
  }
}

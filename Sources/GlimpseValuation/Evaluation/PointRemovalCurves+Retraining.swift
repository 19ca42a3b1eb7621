import GlimpseCore

extension PointRemovalCurves {
  /// The fractions of the training points `glimpse value --removal-curve` removes.
  public static let standardFractions = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]

  /// The curves of `model` retrained on what is left of `training` and scored (accuracy) on
  /// `evaluation`: a held-out test set, or the validation set when there is none.
  ///
  /// - Parameters:
  ///   - values: One value per training point.
  ///   - fractions: Fractions removed, each in [0, 1).
  /// - Complexity: `3 × fractions.count` model fits, in parallel with OpenBLAS at one thread.
  public static func compute(
    retraining model: LearnerFamily, training: Dataset, evaluation: Dataset, values: [Double],
    fractions: [Double] = standardFractions
  ) -> PointRemovalCurves {
    withSingleThreadedBLAS {
      model.withLearner(
        training: training, validation: evaluation,
        Retraining(values: values, fractions: fractions))
    }
  }

  /// Point-removal curves of a learner's utility.
  private struct Retraining: LearnerBody {
    let values: [Double]
    let fractions: [Double]

    func run<L: Learner>(_ learner: L) -> PointRemovalCurves {
      PointRemovalCurves.compute(ModelUtility(learner), values: values, fractions: fractions)
    }
  }
}

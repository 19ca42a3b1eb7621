import GlimpseCore
import GlimpseModels
import Testing

@testable import GlimpseValuation

/// The checks that retrain a model family on what values keep: `glimpse clean`'s threshold and
/// test accuracy, and the removal curves of `glimpse value --removal-curve`.
@Suite struct RetrainingChecksTests {
  static let training = ValuationJobTests.training
  static let validation = ValuationJobTests.validation

  @Test(
    "A threshold keeps values at or above it in index order and drops the rest lowest first, ties by index"
  )
  func thresholdKeepsAndDrops() {
    let values = [0.2, -0.1, 0, -0.3, -0.1, 0.5]
    let cut = ValueThreshold(0)
    #expect(cut.kept(values) == [0, 2, 5])
    #expect(cut.dropped(values) == [3, 1, 4])
    #expect(ValueThreshold(0.3).dropped(values) == [3, 1, 4, 2, 0])
  }

  @Test(
    "A family's accuracy is that of its learner trained on every point; one class: nil for logistic, the class's share for k-NN"
  )
  func accuracyOfTheFullFit() throws {
    let family = LearnerFamily(.knn, k: 1)
    let accuracy = try #require(
      family.accuracy(trainedOn: Self.training, testedOn: Self.validation))
    let direct = ModelUtility(
      ClassifierLearner.nearestNeighbors(training: Self.training, validation: Self.validation, k: 1)
    )
    #expect(accuracy == direct.value(of: Array(0..<8)))
    let oneClass = Self.training.subset([0, 2, 4])
    #expect(
      LearnerFamily(.logistic).accuracy(trainedOn: oneClass, testedOn: Self.validation) == nil)
    // k-NN fits one class and predicts it everywhere: right on the validation points of class 0.
    let share =
      Double(Self.validation.labels.filter { $0 == 0 }.count) / Double(Self.validation.count)
    #expect(family.accuracy(trainedOn: oneClass, testedOn: Self.validation) == share)
  }

  @Test("Removal curves of a family equal those of its model utility, at the standard fractions")
  func removalCurvesByFamily() {
    let values = [0.3, -0.2, 0.1, 0.4, 0, 0.2, 0.05, -0.4]
    let curves = PointRemovalCurves.compute(
      retraining: LearnerFamily(.logistic, c: 2), training: Self.training,
      evaluation: Self.validation, values: values)
    var h = LogisticRegression.Hyperparameters()
    h.c = 2
    let direct = PointRemovalCurves.compute(
      ModelUtility(
        ClassifierLearner.logistic(
          training: Self.training, validation: Self.validation, hyperparameters: h)),
      values: values, fractions: PointRemovalCurves.standardFractions)
    #expect(curves == direct)
    #expect(curves.fractions == [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5])
  }
}

import GlimpseCore
import GlimpseModels

/// Work that takes whichever learner a `LearnerFamily` names.
///
/// `ModelUtility` is generic over its learner, so the model families have different types; a
/// body generic over `Learner` lets the one `switch` in `LearnerFamily.withLearner` serve
/// valuation, retraining checks and removal curves alike. Bodies that cannot fail leave
/// `Failure` at `Never`, so their callers need no `try`.
public protocol LearnerBody {
  /// What the body returns.
  associatedtype Output
  /// What the body throws (`Never` when it cannot fail).
  associatedtype Failure: Error = Never
  /// Runs the work with `learner`.
  func run<L: Learner>(_ learner: L) throws(Failure) -> Output
}

/// The model family retrained on subsets of the training points, with the hyperparameters that
/// matter to it: the utility's model in a valuation, and the model a cleaning or removal curve
/// retrains.
public struct LearnerFamily: Sendable, Equatable {
  /// The classifier families a valuation can retrain.
  public enum Kind: String, Sendable, CaseIterable {
    /// Multinomial logistic regression, warm-started along a permutation's chain.
    case logistic
    /// k nearest neighbours (k = `LearnerFamily.k`).
    case knn
    /// An RBF support vector machine with Platt probabilities.
    case svm

    /// Whether the family trains on a single class: k-NN does (every prediction is that
    /// class), so a one-class subset is scored as fitted; logistic regression and the SVM
    /// cannot (scikit-learn refuses one class), so such a subset scores the untrainable value.
    /// The empty set is untrainable for every family.
    public var fitsSingleClass: Bool {
      switch self {
      case .knn: true
      case .logistic, .svm: false
      }
    }
  }

  /// Which family.
  public var kind: Kind
  /// Neighbours of the k-NN model (and of KNN-Shapley, which values with the k-NN utility).
  public var k: Int
  /// Inverse regularisation strength C of logistic regression and the SVM.
  public var c: Double

  /// A family with its hyperparameters (defaults: k = 5, C = 1, as the CLI's flags).
  public init(_ kind: Kind = .logistic, k: Int = 5, c: Double = 1) {
    self.kind = kind
    self.k = k
    self.c = c
  }

  /// Runs `body` with the learner of this family: trained on subsets of `training`, predicting
  /// `validation`; `seed` drives the SVM's probability folds.
  public func withLearner<Body: LearnerBody>(
    training: Dataset, validation: Dataset, seed: UInt64 = 0, _ body: Body
  ) throws(Body.Failure) -> Body.Output {
    switch kind {
    case .logistic:
      var h = LogisticRegression.Hyperparameters()
      h.c = c
      return try body.run(
        ClassifierLearner.logistic(training: training, validation: validation, hyperparameters: h))
    case .knn:
      return try body.run(
        ClassifierLearner.nearestNeighbors(training: training, validation: validation, k: k))
    case .svm:
      var h = SVMClassifier.Hyperparameters()
      h.c = c
      return try body.run(
        ClassifierLearner.supportVectorMachine(
          training: training, validation: validation, hyperparameters: h, seed: seed))
    }
  }

  /// The accuracy on `test` of this family trained on every point of `training`, or `nil` when
  /// it cannot be trained on them (a single class). OpenBLAS runs one thread meanwhile, as in
  /// the valuation whose values a cleaning checks.
  public func accuracy(trainedOn training: Dataset, testedOn test: Dataset) -> Double? {
    withSingleThreadedBLAS { withLearner(training: training, validation: test, TestAccuracy()) }
  }

  /// Accuracy on the validation (here: test) rows of the learner trained on every point; nil
  /// when it cannot be trained.
  private struct TestAccuracy: LearnerBody {
    func run<L: Learner>(_ learner: L) -> Double? {
      guard let model = learner.fit(Array(0..<learner.trainingCount), warmStart: nil) else {
        return nil
      }
      return ValidationScore.accuracy.score(
        learner.predictions(of: model), truth: learner.validationLabels)
    }
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseModels
import GlimpseValuation

enum ValuationModelName: String, CaseIterable, ExpressibleByArgument {
  case logistic, knn, svm
}

/// Work that takes the learner `--model` names, whichever classifier type it trains.
///
/// `ModelUtility` is generic over its learner, so the three model families have three types; a
/// body generic over `Learner` lets one `switch` (in `ValuationModelOptions.withLearner`) serve
/// `value`, `clean` and the removal curve alike.
protocol LearnerBody {
  associatedtype Output
  func run<L: Learner>(_ learner: L) throws -> Output
}

/// `--model`, `--k`, `--c`: the model family retrained on subsets of the training points
/// (shared by `glimpse value` and `glimpse clean`).
struct ValuationModelOptions: ParsableArguments {
  @Option(help: "The model family retrained on subsets: logistic (warm-started), knn or svm.")
  var model: ValuationModelName = .logistic

  @Option(name: .customLong("k"), help: "Neighbours for knn (the model, and --method knn).")
  var k = 5

  @Option(name: .customLong("c"), help: "Inverse regularisation strength C (logistic, svm).")
  var c = 1.0

  func validate() throws {
    if k < 1 { throw ValidationError("--k must be at least 1") }
    if !(c > 0) { throw ValidationError("--c must be > 0") }
  }

  /// The family and the hyperparameters that matter to it, e.g. `knn (k=5)`.
  var summary: String {
    switch model {
    case .knn: return "knn (k=\(k))"
    case .logistic, .svm: return "\(model.rawValue) (C=\(formatFixed(c, digits: 2)))"
    }
  }

  /// Runs `body` with the learner these options name: trained on subsets of `training`,
  /// predicting `validation`; `seed` drives the SVM's probability folds.
  func withLearner<Body: LearnerBody>(
    training: Dataset, validation: Dataset, seed: UInt64 = 0, _ body: Body
  ) throws -> Body.Output {
    switch model {
    case .logistic:
      var h = LogisticRegression.Hyperparameters()
      h.c = c
      return try body.run(ClassifierLearner.logistic(training: training, validation: validation, hyperparameters: h))
    case .knn:
      return try body.run(ClassifierLearner.nearestNeighbors(training: training, validation: validation, k: k))
    case .svm:
      var h = SVMClassifier.Hyperparameters()
      h.c = c
      return try body.run(
        ClassifierLearner.supportVectorMachine(
          training: training, validation: validation, hyperparameters: h, seed: seed))
    }
  }
}

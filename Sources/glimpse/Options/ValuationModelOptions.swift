import ArgumentParser
import GlimpseCore
import GlimpseValuation

/// `--model`, `--k`, `--c`: the model family retrained on subsets of the training points
/// (shared by `glimpse value` and `glimpse clean`).
struct ValuationModelOptions: ParsableArguments {
  @Option(help: "The model family retrained on subsets: logistic (warm-started), knn or svm.")
  var model: LearnerFamily.Kind = .logistic

  @Option(name: .customLong("k"), help: "Neighbours for knn (the model, and --method knn).")
  var k = 5

  @Option(name: .customLong("c"), help: "Inverse regularisation strength C (logistic, svm).")
  var c = 1.0

  func validate() throws {
    if k < 1 { throw ValidationError("--k must be at least 1") }
    if !(c > 0) { throw ValidationError("--c must be > 0") }
  }

  /// The family and hyperparameters these flags name.
  var family: LearnerFamily { LearnerFamily(model, k: k, c: c) }
}

extension LearnerFamily {
  /// The family and the hyperparameters that matter to it, e.g. `knn (k=5)`.
  var summary: String {
    switch kind {
    case .knn: return "knn (k=\(k))"
    case .logistic, .svm: return "\(kind.rawValue) (C=\(formatFixed(c, digits: 2)))"
    }
  }
}

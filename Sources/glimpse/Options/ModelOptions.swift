import ArgumentParser
import GlimpseCore
import GlimpseModels

/// The classifiers `glimpse train` builds.
enum ModelName: String, CaseIterable, ExpressibleByArgument {
  case svm, logistic, knn, cnn
}

extension Architecture: ExpressibleByArgument {}

extension SVMClassifier.KernelName: ExpressibleByArgument {}

/// Which model to train and its hyperparameters (defaults are scikit-learn's).
struct ModelOptions: ParsableArguments {
  @Option(help: "The classifier: svm (RBF C-SVC with probabilities), logistic, knn, cnn (images only).")
  var model: ModelName = .svm

  @Option(name: .customLong("c"), help: "Inverse regularisation strength C (svm, logistic).")
  var c = 1.0

  @Option(help: "SVM kernel: rbf, linear, poly.")
  var kernel: SVMClassifier.KernelName = .rbf

  @Option(help: "SVM kernel width: scale (1/(features·Var X)), auto (1/features) or a number.")
  var gamma = "scale"

  @Option(help: "Polynomial kernel degree.")
  var degree = 3

  @Option(help: "Polynomial kernel constant term.")
  var coef0 = 0.0

  @Option(help: "Stopping tolerance (svm: KKT gap, default 1e-3; logistic: gradient, default 1e-4).")
  var tol: Double?

  @Flag(help: "SVM without Platt probabilities (faster; predictProbabilities gives vote shares).")
  var noProbability = false

  @Option(name: .customLong("k"), help: "Neighbours for knn.")
  var k = 5

  @Option(help: "Iteration limit for logistic regression.")
  var maxIterations = 1000

  @Option(help: "CNN architecture: standard (Glimpse's default recipe) or seed (the knee-image study's network and recipe).")
  var architecture: Architecture = .standard

  @Option(help: "CNN training epochs (default: the architecture's recipe).")
  var epochs: Int?

  @Option(help: "CNN mini-batch size (default: the recipe's, 32).")
  var batchSize: Int?

  @Option(help: "CNN learning rate (default: the recipe's, 1e-3).")
  var learningRate: Double?

  func validate() throws {
    guard c > 0 else { throw ValidationError("--c must be > 0") }
    guard k >= 1 else { throw ValidationError("--k must be ≥ 1") }
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be ≥ 1") }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be ≥ 1") }
    if let learningRate, learningRate <= 0 { throw ValidationError("--learning-rate must be > 0") }
    if gamma != "scale" && gamma != "auto" && (Double(gamma) ?? 0) <= 0 {
      throw ValidationError("--gamma must be scale, auto or a number > 0")
    }
  }

  /// Trains the chosen model.
  func fit(_ data: Dataset, seed: UInt64, progress: (Double) -> Void) throws -> any Classifier {
    var rng = SeededGenerator(seed: seed)
    switch model {
    case .svm:
      var h = SVMClassifier.Hyperparameters()
      h.c = c
      h.kernel = kernel
      h.gamma = gamma == "scale" ? .scale : gamma == "auto" ? .auto : .value(Double(gamma) ?? 1)
      h.degree = degree
      h.coef0 = coef0
      if let tol { h.tolerance = tol }
      h.probability = !noProbability
      return try SVMClassifier.fit(data, hyperparameters: h, using: &rng, progress: progress)
    case .logistic:
      var h = LogisticRegression.Hyperparameters(c: c, maxIterations: maxIterations)
      if let tol { h.tolerance = tol }
      return try LogisticRegression.fit(data, hyperparameters: h, using: &rng, progress: progress)
    case .knn:
      return try KNearestNeighbors.fit(data, hyperparameters: .init(k: k), using: &rng, progress: progress)
    case .cnn:
      var h = CNNClassifier.Hyperparameters.recipe(for: architecture)
      if let epochs { h.epochs = epochs }
      if let batchSize { h.batchSize = batchSize }
      if let learningRate { h.learningRate = learningRate }
      return try CNNClassifier.fit(data, hyperparameters: h, using: &rng, progress: progress)
    }
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseModels

/// The classifiers `glimpse train` builds.
enum ModelName: String, CaseIterable, ExpressibleByArgument {
  case svm, logistic, knn, cnn
}

extension Architecture: ExpressibleByArgument {}

extension SVMClassifier.KernelName: ExpressibleByArgument {}

extension Augmentation.Kind: ExpressibleByArgument {}

extension ClassWeighting: ExpressibleByArgument {}

extension LearningRateSchedule.Kind: ExpressibleByArgument {}

/// Which model to train and its hyperparameters (defaults are scikit-learn's).
struct ModelOptions: ParsableArguments {
  @Option(
    help: "The classifier: svm (RBF C-SVC with probabilities), logistic, knn, cnn (images only).")
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

  @Option(
    help: "Stopping tolerance (svm: KKT gap, default 1e-3; logistic: gradient, default 1e-4).")
  var tol: Double?

  @Flag(help: "SVM without Platt probabilities (faster; predictProbabilities gives vote shares).")
  var noProbability = false

  @Option(name: .customLong("k"), help: "Neighbours for knn.")
  var k = 5

  @Option(help: "Iteration limit for logistic regression.")
  var maxIterations = 1000

  @Option(
    help:
      "CNN architecture: seed (the knee-image study's network and recipe), standard (Glimpse's digit recipe) or resnet (strided convolutions, batch norm, residual blocks; the recipe for large images) (default: standard up to 32×32, resnet above)."
  )
  var architecture: Architecture?

  @Option(help: "CNN training epochs (default: the architecture's recipe).")
  var epochs: Int?

  @Option(help: "CNN mini-batch size (default: the recipe's, 32).")
  var batchSize: Int?

  @Option(help: "CNN learning rate (default: the recipe's, 1e-3).")
  var learningRate: Double?

  @Option(
    help:
      "CNN augmentation: none, shift (±2 pixels, the digit recipe's) or crop-flip (random crop of the image padded by 1/8 of its side, then a horizontal flip with probability 1/2) (default: the recipe's)."
  )
  var augment: Augmentation.Kind?

  @Option(
    help: ArgumentHelp(
      "CNN: hold out this fraction of each class (0 ≤ F < 1) to keep the epoch with the lowest validation loss (default: the recipe's; 0 for the digit recipes).",
      valueName: "F"))
  var validationFraction: Double?

  @Option(
    help: ArgumentHelp(
      "CNN: stop after N epochs without a lower validation loss (0: never stop early; the best epoch is still kept). Needs a validation split (default: the recipe's).",
      valueName: "N"))
  var patience: Int?

  @Option(
    help:
      "CNN class weights in the loss: none, or balanced (n / (classes · n_class), scikit-learn's) (default: the recipe's, none)."
  )
  var classWeights: ClassWeighting?

  @Option(
    help:
      "CNN learning-rate schedule: constant, cosine (decay to 0 over all steps) or step (×0.1 after each third of the epochs) (default: the recipe's)."
  )
  var schedule: LearningRateSchedule.Kind?

  func validate() throws {
    guard c > 0 else { throw ValidationError("--c must be > 0") }
    guard k >= 1 else { throw ValidationError("--k must be ≥ 1") }
    if let epochs, epochs < 1 { throw ValidationError("--epochs must be ≥ 1") }
    if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be ≥ 1") }
    if let learningRate, learningRate <= 0 { throw ValidationError("--learning-rate must be > 0") }
    if gamma != "scale" && gamma != "auto" && (Double(gamma) ?? 0) <= 0 {
      throw ValidationError("--gamma must be scale, auto or a number > 0")
    }
    if let validationFraction, !(validationFraction >= 0 && validationFraction < 1) {
      throw ValidationError("--validation-fraction must be in [0, 1)")
    }
    if let patience, patience < 0 { throw ValidationError("--patience must be ≥ 0") }
    let trainingFlags = [
      augment.map { _ in "--augment" }, validationFraction.map { _ in "--validation-fraction" },
      patience.map { _ in "--patience" }, classWeights.map { _ in "--class-weights" },
      schedule.map { _ in "--schedule" },
    ].compactMap { $0 }
    if model != .cnn, let flag = trainingFlags.first {
      throw ValidationError("\(flag) applies to --model cnn only")
    }
    // Known before reading the data only when the architecture is named.
    if model == .cnn, let architecture {
      try checkPatience(CNNClassifier.Hyperparameters.recipe(for: architecture))
    }
  }

  /// Refuses `--patience` when the recipe, with the flags, holds nothing out.
  private func checkPatience(_ recipe: CNNClassifier.Hyperparameters) throws {
    let fraction = validationFraction ?? recipe.validationFraction
    if patience != nil, fraction == 0 {
      throw ValidationError(
        "--patience needs a validation split: add --validation-fraction F with F > 0")
    }
  }

  /// The CNN recipe for the chosen architecture (by default the library's choice for images
  /// of `shape`) with the settings given on the command line (what `fit` trains for
  /// `--model cnn`). A named augmentation or schedule of the recipe's own kind keeps the
  /// recipe's parameters; another kind takes the library's parameters for it.
  /// - Throws: `ValidationError` for `--patience` without a validation split.
  func cnnHyperparameters(for shape: ImageShape?) throws -> CNNClassifier.Hyperparameters {
    let chosen = architecture ?? shape.map(Architecture.defaultArchitecture(for:)) ?? .standard
    var h = CNNClassifier.Hyperparameters.recipe(for: chosen)
    try checkPatience(h)
    if let epochs { h.epochs = epochs }
    if let batchSize { h.batchSize = batchSize }
    if let learningRate { h.learningRate = learningRate }
    if let augment, augment != h.augmentation.kind { h.augmentation = Augmentation(augment) }
    if let validationFraction { h.validationFraction = validationFraction }
    if let patience { h.patience = patience }
    if let classWeights { h.classWeighting = classWeights }
    if let schedule, schedule != h.schedule.kind {
      h.schedule = LearningRateSchedule(schedule, epochs: h.epochs)
    }
    return h
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
      return try KNearestNeighbors.fit(
        data, hyperparameters: .init(k: k), using: &rng, progress: progress)
    case .cnn:
      return try CNNClassifier.fit(
        data, hyperparameters: cnnHyperparameters(for: data.imageShape), using: &rng,
        progress: progress)
    }
  }
}

import GlimpseCore
import GlimpseModels

/// A model family that can be trained on a subset of a fixed training set and asked for its
/// predictions on a fixed validation set: what a `ModelUtility` scores.
public protocol Learner: Sendable {
  associatedtype Model: Sendable

  /// The number of training points.
  var trainingCount: Int { get }
  /// The training labels (class indices), for class-wise methods.
  var trainingLabels: [Int] { get }
  /// The validation labels (class indices), in the order `predictions(of:)` returns.
  var validationLabels: [Int] { get }

  /// A model trained on the training points `subset`, or `nil` when the subset is too small
  /// to train on. `warmStart`, when given, is a model trained on a subset of `subset`.
  func fit(_ subset: [Int], warmStart: Model?) -> Model?

  /// The predicted class index of every validation point.
  func predictions(of model: Model) -> [Int]

  /// The predicted class index of the validation points `rows` (indices into the validation
  /// set), in that order.
  func predictions(of model: Model, rows: [Int]) -> [Int]

  /// A model trained on a bootstrap bag: `bag` lists training points with repeats, ascending,
  /// and a repeated point weighs as often as it is drawn. `nil` and `warmStart` as for
  /// `fit(_:warmStart:)` (a warm start need not be trained on a subset of the bag: it changes
  /// where the solver starts, not the optimum).
  func fitBag(_ bag: [Int], warmStart: Model?) -> Model?
}

extension Learner {
  /// Trains on the bag's rows, repeats included (`fit(bag, warmStart:)`).
  public func fitBag(_ bag: [Int], warmStart: Model?) -> Model? { fit(bag, warmStart: warmStart) }

  /// Picks `rows` out of every validation point's prediction.
  public func predictions(of model: Model, rows: [Int]) -> [Int] {
    let all = predictions(of: model)
    return rows.map { all[$0] }
  }
}

/// A `Classifier` trained on subsets of a dataset and scored on a validation dataset.
///
/// **Subsets too small to train on:** the empty set always; subsets with a single class unless
/// the family fits one class (`fitsSingleClass`: k-NN, which then predicts that class). They get
/// the utility's `untrainableValue` (0 by default), as in pyDVL, where scikit-learn refuses to fit
/// logistic regression or an SVM on one class and `ModelUtility(catch_errors=True)` returns the
/// scorer's default of 0.
public struct ClassifierLearner<C: Classifier>: Learner {
  /// The model a fit returns: the classifier itself.
  public typealias Model = C
  /// The points subsets are drawn from.
  public let training: Dataset
  /// The points every model is scored on.
  public let validation: Dataset
  /// Whether a subset of a single class is fitted (k-NN: it predicts that class) rather than
  /// scored as untrainable (logistic regression, SVM: one class has no decision boundary).
  public let fitsSingleClass: Bool
  let fitter: @Sendable (Dataset, C?) throws -> C
  /// Trains on training rows given by index, with optional weights, when the family can do so
  /// without copying them out (logistic regression's `SubsetTrainer`); a bag then trains on its
  /// unique rows weighted by multiplicity (see `fitBag`).
  var subsetFitter: (@Sendable ([Int], [Double]?, C?) throws -> C)?
  /// Predicts validation rows given by index without copying them out, when the family can
  /// (logistic regression, from the validation set's non-zeros).
  var rowPredictor: (@Sendable (C, [Int]) -> [Int])?
  /// `validation.features`, converted once: 8-bit rows give a new `Double` matrix each time,
  /// and every fit of a valuation is scored on them.
  let validationFeatures: Matrix

  /// - Parameters:
  ///   - fitsSingleClass: Whether a single-class subset is fitted (default: no, it is
  ///     untrainable).
  ///   - fit: Trains a model on a dataset, optionally from a warm start (ignore it when the
  ///     model has none). Throwing counts as "too small to train".
  public init(
    training: Dataset, validation: Dataset, fitsSingleClass: Bool = false,
    fit: @escaping @Sendable (Dataset, C?) throws -> C
  ) {
    precondition(
      training.featureCount == validation.featureCount,
      "training and validation sets have different feature counts")
    self.training = training
    self.validation = validation
    self.fitsSingleClass = fitsSingleClass
    fitter = fit
    validationFeatures = validation.features
  }

  /// The number of training points.
  public var trainingCount: Int { training.count }
  /// The training labels (class indices).
  public var trainingLabels: [Int] { training.labels }
  /// The validation labels (class indices).
  public var validationLabels: [Int] { validation.labels }

  /// The classifier trained on `subset` (warm-started from `warmStart` when the family can), or
  /// `nil` for the empty set, a single class (unless `fitsSingleClass`), or a fit that throws.
  /// `subset` may repeat points (a bootstrap bag): repeated rows are trained on as often.
  public func fit(_ subset: [Int], warmStart: C?) -> C? {
    guard let first = subset.first else { return nil }
    if !fitsSingleClass {
      let label = training.labels[first]
      guard subset.contains(where: { training.labels[$0] != label }) else { return nil }
    }
    if let subsetFitter { return try? subsetFitter(subset, nil, warmStart) }
    return try? fitter(training.subset(subset), warmStart)
  }

  /// The predicted class of every validation point.
  public func predictions(of model: C) -> [Int] { model.predict(validationFeatures) }

  /// The predicted class of the validation points `rows`: those rows alone are scored.
  public func predictions(of model: C, rows: [Int]) -> [Int] {
    if let rowPredictor { return rowPredictor(model, rows) }
    return model.predict(validationFeatures.selectingRows(rows))
  }

  /// The classifier trained on a bootstrap bag (ascending, with repeats). A family with a
  /// weighted fit trains on the bag's distinct rows weighted by their multiplicities, the same
  /// optimum as the repeated rows at about 63 % of the rows (Data-OOB's bags); the others train
  /// on the repeated rows (`fit(bag, warmStart: warmStart)`).
  public func fitBag(_ bag: [Int], warmStart: C?) -> C? {
    guard let subsetFitter else { return fit(bag, warmStart: warmStart) }
    guard let first = bag.first else { return nil }
    if !fitsSingleClass {
      let label = training.labels[first]
      guard bag.contains(where: { training.labels[$0] != label }) else { return nil }
    }
    var points: [Int] = []
    var counts: [Double] = []
    for point in bag {
      if points.last == point {
        counts[counts.count - 1] += 1
      } else {
        precondition(points.last.map { $0 < point } ?? true, "a bag lists its points ascending")
        points.append(point)
        counts.append(1)
      }
    }
    return try? subsetFitter(points, counts, warmStart)
  }
}

extension ClassifierLearner where C == LogisticRegression {
  /// Logistic regression, warm-started from the previous subset's weights along a chain.
  public static func logistic(
    training: Dataset, validation: Dataset,
    hyperparameters: LogisticRegression.Hyperparameters = .init()
  ) -> Self {
    var learner = ClassifierLearner(training: training, validation: validation) { data, warm in
      // A class the warm start never saw starts at zero (see `LogisticRegression.fit`).
      try LogisticRegression.fit(
        data, hyperparameters: hyperparameters, warmStart: warm, progress: { _ in })
    }
    let trainer = LogisticRegression.SubsetTrainer(training)
    learner.subsetFitter = { rows, weights, warm in
      try trainer.fit(
        rows: rows, sampleWeights: weights, hyperparameters: hyperparameters, warmStart: warm)
    }
    let validationRows = LogisticRegression.SubsetTrainer(validation)
    learner.rowPredictor = { model, rows in validationRows.predictions(of: model, rows: rows) }
    return learner
  }
}

extension ClassifierLearner where C == KNearestNeighbors {
  /// k-nearest neighbours (no fitting to speak of; warm starts do not apply). A single-class
  /// subset is fitted: every prediction is its class (`fitsSingleClass`).
  public static func nearestNeighbors(training: Dataset, validation: Dataset, k: Int = 5) -> Self {
    ClassifierLearner(training: training, validation: validation, fitsSingleClass: true) {
      data, _ in
      var rng = SeededGenerator(seed: 0)
      return try KNearestNeighbors.fit(
        data, hyperparameters: .init(k: k), using: &rng, progress: { _ in })
    }
  }
}

extension ClassifierLearner where C == SVMClassifier {
  /// An RBF SVM with libsvm-style probabilities (the seed study's model).
  public static func supportVectorMachine(
    training: Dataset, validation: Dataset,
    hyperparameters: SVMClassifier.Hyperparameters = .init(),
    seed: UInt64 = 0
  ) -> Self {
    ClassifierLearner(training: training, validation: validation) { data, _ in
      var rng = SeededGenerator(seed: seed)
      return try SVMClassifier.fit(data, hyperparameters: hyperparameters, using: &rng)
    }
  }
}

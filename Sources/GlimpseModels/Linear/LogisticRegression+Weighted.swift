import GlimpseCore

// Implementation notes
// 1. Why: a bootstrap bag of n draws holds about 63 % of the n points, some several times.
//    Fitting the bag's unique rows with their multiplicities as weights minimises the same
//    function as fitting the duplicated rows (C · Σᵢ mᵢ CE(yᵢ, pᵢ) + ½‖W‖², with the feature mean
//    and scikit-learn's gradient scale taken over the Σ mᵢ rows the weights stand for), so it
//    reaches the same optimum at about 63 % of the cost per evaluation (Data-OOB, issue #21).
// 2. The weights enter `SoftmaxObjective` only as a factor on each row's loss and on its row of
//    P − Y; without weights the objective runs the code it ran before, bit for bit.

extension LogisticRegression {
  /// Trains a new model on rows with weights: a row of weight m counts as m copies of it
  /// (scikit-learn's `fit(X, y, sample_weight=m)`), so integer multiplicities give the model of
  /// the duplicated rows, up to the solver's tolerance.
  ///
  /// - Parameters:
  ///   - sampleWeights: One finite positive weight per row of `data`.
  ///   - warmStart: As in `fit(_:hyperparameters:warmStart:progress:)`.
  /// - Throws: `ModelError.unsuitableData` for a dataset without rows or weights that are not
  ///   one finite positive value per row, `.invalidHyperparameter` as the unweighted fit.
  public static func fit(
    _ data: Dataset, sampleWeights: [Double], hyperparameters: Hyperparameters,
    warmStart: LogisticRegression? = nil, progress: (Double) -> Void = { _ in }
  ) throws(ModelError) -> LogisticRegression {
    guard data.count > 0 else { throw .unsuitableData("the dataset has no rows") }
    guard sampleWeights.count == data.count else {
      throw .unsuitableData("\(sampleWeights.count) sample weights for \(data.count) rows")
    }
    guard sampleWeights.allSatisfy({ $0.isFinite && $0 > 0 }) else {
      throw .unsuitableData("sample weights must be finite and positive")
    }
    try hyperparameters.validate()
    try checkWarmStart(warmStart, for: data)
    let model = fitPresentClasses(
      data, hyperparameters: hyperparameters, warmStart: warmStart, sampleWeights: sampleWeights,
      progress: progress)
    progress(1)
    return model
  }
}

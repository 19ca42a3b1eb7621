import GlimpseCore

/// A trained model that assigns a probability to each class for each feature row.
///
/// Conventions follow scikit-learn's estimators: hyperparameters are chosen before seeing data;
/// `fit` returns a new model and never changes an old one; probability columns are in
/// `classNames` order (the dataset's sorted classes). Scoring is batched: one call scores
/// thousands of rows through BLAS.
public protocol Classifier: Sendable {
  /// Settings chosen before seeing data (scikit-learn's `__init__` parameters).
  associatedtype Hyperparameters: Sendable & Codable

  /// The model's name in files and on the command line (`svm`, `logistic`, `knn`).
  static var kind: String { get }

  /// Trains a new model on `data`.
  /// - Parameters:
  ///   - rng: The only source of randomness (same seed, same model).
  ///   - progress: Called with the fraction done, from 0 to 1, during long fits.
  /// - Throws: `ModelError.unsuitableData` or `.invalidHyperparameter`.
  static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> Self

  /// The hyperparameters the model was trained with.
  var hyperparameters: Hyperparameters { get }

  /// Class names in the order of the probability columns.
  var classNames: [String] { get }

  /// Number of features each row must have.
  var featureCount: Int { get }

  /// Class probabilities.
  /// - Parameter features: `[rows, featureCount]`.
  /// - Returns: `[rows, classNames.count]`; each row sums to 1.
  func predictProbabilities(_ features: Matrix) -> Matrix

  /// Class probabilities of a masked batch (LIME's perturbations). By default the rows are
  /// written out and scored; models whose first step is a dot product score it faster, exactly.
  func predictProbabilities(_ batch: MaskedBatch) -> Matrix

  /// Whether `predictProbabilities(_: MaskedBatch)` scores a masked batch without writing its
  /// images out (memory per row of the order of the model's size, not the image's). By default
  /// false: a caller then scores a large batch in parts, so 1000 perturbed 224×224 colour
  /// images never sit in memory at once (1.2 GB as doubles).
  var scoresMaskedBatchesWithoutImages: Bool { get }

  /// Whether one call of `predictProbabilities(_: MaskedBatch)` already keeps every model
  /// thread busy, so that a caller with several batches (one per segmenter) does better
  /// scoring them one after another than side by side. By default false.
  var scoresMaskedBatchesOnEveryThread: Bool { get }

  /// Class probabilities of 8-bit image rows (value `Double(k) / 255`). By default the rows
  /// are turned into `Double` and scored (callers pass a chunk of rows at a time, see
  /// `predictProbabilities(_: Dataset)`); the CNN reads the codes directly.
  func predictProbabilities(_ rows: PixelRows) -> Matrix

  /// Rows per chunk when a whole dataset is scored a part at a time (`Dataset.defaultChunkRows`
  /// by default): the CNN picks a multiple of its inference batch, so that the chunks are cut
  /// where its own batches are and the results are the bits of one call.
  var chunkRows: Int { get }

  /// The predicted class index of each row. By default the argmax of the probabilities (first
  /// class on ties); models with their own decision rule (the SVM's one-vs-one votes) override it.
  func predict(_ features: Matrix) -> [Int]

  /// The model's learned arrays and scalars, for saving.
  func archive() -> ModelArchive

  /// Restores a model from its archive.
  /// - Throws: `ModelError.corruptModelFile` when arrays are missing or have the wrong size.
  init(archive: ModelArchive) throws(ModelError)
}

extension Classifier {
  /// By default, the batch's images materialised and scored as rows.
  public func predictProbabilities(_ batch: MaskedBatch) -> Matrix {
    predictProbabilities(batch.materialized())
  }

  /// By default, false: the model needs the masked images themselves.
  public var scoresMaskedBatchesWithoutImages: Bool { false }

  /// By default, false: callers score several masked batches side by side.
  public var scoresMaskedBatchesOnEveryThread: Bool { false }

  /// By default, the 8-bit rows converted to `Double` (k / 255) and scored.
  public func predictProbabilities(_ rows: PixelRows) -> Matrix {
    predictProbabilities(rows.doubles())
  }

  /// By default, `Dataset.defaultChunkRows`.
  public var chunkRows: Int { Dataset.defaultChunkRows }

  /// By default, the most probable class of each row (the first on ties).
  public func predict(_ features: Matrix) -> [Int] {
    predictProbabilities(features).argmaxRows()
  }

  /// Trains without progress reports.
  public static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters, using rng: inout some RandomNumberGenerator
  ) throws(ModelError) -> Self {
    try fit(data, hyperparameters: hyperparameters, using: &rng, progress: { _ in })
  }

  /// Refuses data whose column count differs from the model's.
  public func checkFeatures(_ features: Matrix) throws(ModelError) {
    guard features.columns == featureCount else {
      throw .featureCountMismatch(model: featureCount, data: features.columns)
    }
  }
}

extension Dataset {
  /// Refuses data no classifier can learn from: no rows, or fewer than two classes present.
  public func checkTrainable() throws(ModelError) {
    guard count > 0 else { throw .unsuitableData("the dataset has no rows") }
    let present = classCounts.filter { $0 > 0 }.count
    guard present >= 2 else {
      throw .unsuitableData("only \(present) class has rows; a classifier needs two")
    }
  }
}

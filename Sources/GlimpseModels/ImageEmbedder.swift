import GlimpseCore

/// A classifier whose penultimate activations (the input of its last fully connected layer)
/// can stand in for its input rows: `glimpse embed` writes them and `glimpse value --embed`
/// values training points on them (Glimpse CNNs and imported networks).
public protocol ImageEmbedder: Classifier {
  /// Why this model gives no embedding (its graph does not end in a fully connected layer),
  /// or `nil` when it does.
  var embeddingProblem: String? { get }
  /// The words for the layer the embedding is read at.
  var embeddingLayer: String { get }
  /// The embedding of every row of `data`, `[data.count, dimensions]`.
  /// - Precondition: `embeddingProblem == nil` and the rows have `featureCount` values.
  func embed(_ data: Dataset) -> Matrix
}

extension CNNClassifier: ImageEmbedder {
  /// `nil`: every Glimpse CNN ends in a dense layer.
  public var embeddingProblem: String? { nil }

  /// `the output of layer 9 of 10, the input of the last dense layer; 128 dimensions`.
  public var embeddingLayer: String {
    let layers = network.layers
    let lastDense = layers.lastIndex { if case .dense = $0 { true } else { false } } ?? layers.count
    return
      "the output of layer \(lastDense) of \(layers.count), the input of the last dense layer; \(embeddingSize) dimensions"
  }

  /// The embedding of every row (`embed(_:chunkRows:)` with the default chunks).
  public func embed(_ data: Dataset) -> Matrix { embed(data, chunkRows: nil) }
}

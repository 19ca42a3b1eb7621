import GlimpseCore

// 8-bit image rows scored without their `Double` copy (issue #16, item 3).

extension CNNClassifier {
  /// Class probabilities of 8-bit rows, read into Float32 batches straight from the codes:
  /// the bits `predictProbabilities(rows.doubles())` gives, without the `Double` rows.
  public func predictProbabilities(_ rows: PixelRows) -> Matrix {
    precondition(
      rows.columns == featureCount, "rows have \(rows.columns) columns, the model \(featureCount)")
    let loss = SoftmaxCrossEntropy()
    return batched(
      rowCount: rows.rows, columns: classNames.count,
      input: { FeatureMaps(pixels: rows, rows: $0, shape: imageShape) },
      { batch in loss.probabilities(network.logits(batch)) })
  }

  /// The embedding (`embed`) of 8-bit rows, read straight from the codes.
  public func embed(_ rows: PixelRows) -> Matrix {
    precondition(
      rows.columns == featureCount, "rows have \(rows.columns) columns, the model \(featureCount)")
    return batched(
      rowCount: rows.rows, columns: embeddingSize,
      input: { FeatureMaps(pixels: rows, rows: $0, shape: imageShape) },
      { batch in network.embedding(batch) })
  }

  /// The embedding of every row of `data`, 8-bit rows `chunkRows` at a time (`Double` rows in
  /// one call, as `embed(_: Matrix)`).
  public func embed(_ data: Dataset, chunkRows: Int? = nil) -> Matrix {
    switch data.storage {
    case .doubles(let features) where chunkRows == nil: return embed(features)
    default:
      return data.stackingChunks(chunkRows ?? self.chunkRows) { rows in
        switch rows {
        case .doubles(let features): embed(features)
        case .pixels(let pixels): embed(pixels)
        }
      }
    }
  }

  /// A multiple of the inference batch near `Dataset.defaultChunkRows`, so that chunks of a
  /// dataset are cut where one call's batches are cut (the same bits as one call).
  public var chunkRows: Int {
    let batch = inferenceBatchSize
    return batch * max(1, Dataset.defaultChunkRows / batch)
  }
}

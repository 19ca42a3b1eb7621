import GlimpseCore

// Scoring a whole dataset without its `Double` matrix: 10 000 colour images of 224×224 are
// 1.5 GB as 8-bit codes but 12 GB as doubles (issue #16, item 3). A dataset of codes is scored
// `chunkRows` rows at a time, each chunk turned into `Double` (or, for the CNN, Float32) only
// while it is scored; a dataset of doubles is scored in one call, as before.

extension Classifier {
  /// Class probabilities of rows as stored: `Double` rows as they are, 8-bit rows through
  /// `predictProbabilities(_: PixelRows)`.
  public func predictProbabilities(_ rows: FeatureRows) -> Matrix {
    switch rows {
    case .doubles(let matrix): predictProbabilities(matrix)
    case .pixels(let pixels): predictProbabilities(pixels)
    }
  }

  /// Class probabilities of every row of `data`, `[data.count, classNames.count]`. 8-bit rows
  /// are scored `chunkRows` (default: the model's `chunkRows`) at a time; `Double` rows in one
  /// call unless `chunkRows` is given.
  public func predictProbabilities(_ data: Dataset, chunkRows: Int? = nil) -> Matrix {
    guard chunkRows != nil || data.pixelCodes != nil else {
      return predictProbabilities(data.storage)
    }
    return data.stackingChunks(chunkRows ?? self.chunkRows) { predictProbabilities($0) }
  }

  /// The predicted class of every row of `data` (`predict`'s rule: the SVM's votes), in chunks
  /// as `predictProbabilities(_: Dataset, chunkRows:)`.
  public func predict(_ data: Dataset, chunkRows: Int? = nil) -> [Int] {
    guard chunkRows != nil || data.pixelCodes != nil else { return predict(data.features) }
    return data.chunkRanges(chunkRows ?? self.chunkRows).flatMap { range in
      predict(data.rows(range))
    }
  }
}

extension SVMClassifier {
  /// Probabilities and one-vs-one votes of every row of `data`, in chunks as
  /// `predictProbabilities(_: Dataset, chunkRows:)`.
  public func predictProbabilitiesAndVotes(
    _ data: Dataset, chunkRows: Int? = nil
  ) -> (probabilities: Matrix, votes: [Int]) {
    guard chunkRows != nil || data.pixelCodes != nil else {
      return predictProbabilitiesAndVotes(data.features)
    }
    var votes: [Int] = []
    votes.reserveCapacity(data.count)
    let probabilities = data.stackingChunks(chunkRows ?? self.chunkRows) { rows in
      let part = predictProbabilitiesAndVotes(rows.doubles())
      votes += part.votes
      return part.probabilities
    }
    return (probabilities, votes)
  }
}

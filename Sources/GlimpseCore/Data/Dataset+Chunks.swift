extension Dataset {
  /// Rows per chunk when a whole dataset is scored a part at a time: 256 images of 224×224×3
  /// are 308 MB as `Double`, small beside the 12 GB of 10 000 of them.
  public static let defaultChunkRows = 256

  /// `0..<count` cut into consecutive ranges of `size` rows (the last holds the remainder).
  public func chunkRanges(_ size: Int = Dataset.defaultChunkRows) -> [Range<Int>] {
    precondition(size >= 1, "chunk size \(size) must be ≥ 1")
    return stride(from: 0, to: count, by: size).map { $0..<Swift.min($0 + size, count) }
  }

  /// `body` applied to consecutive chunks of rows, kept as they are stored, and the `[rows, k]`
  /// results stacked in row order: a pass over the dataset that never holds more than one
  /// chunk as `Double`.
  public func stackingChunks(
    _ size: Int = Dataset.defaultChunkRows, _ body: (FeatureRows) throws -> Matrix
  ) rethrows -> Matrix {
    var columns = 0
    var stacked: [Double] = []
    for range in chunkRanges(size) {
      let part = try body(storage.rows(range))
      precondition(part.rows == range.count, "a chunk of \(range.count) rows gave \(part.rows)")
      if range.lowerBound == 0 {
        columns = part.columns
        stacked.reserveCapacity(count * columns)
      }
      precondition(part.columns == columns, "chunks gave \(columns) and \(part.columns) columns")
      stacked += part.storage
    }
    return Matrix(rows: count, columns: columns, storage: stacked)
  }
}

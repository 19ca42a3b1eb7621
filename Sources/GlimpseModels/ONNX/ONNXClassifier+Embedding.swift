import GlimpseCore

extension ONNXClassifier: ImageEmbedder {
  /// `nil` when the graph ends in a Gemm or MatMul layer (`ONNXGraph.embeddingSource`) whose
  /// input is one Float32 row per image; checked on a blank batch, so that `embed` never meets
  /// a value it cannot read (a file is input: its graph may reshape the batch away).
  public var embeddingProblem: String? {
    guard let source = graph.embeddingSource else {
      return
        "its graph does not end in a fully connected (Gemm or MatMul) layer whose input could be the embedding"
    }
    let blank = Self.input(hyperparameters, count: batchSize) { _, _ in 0 }
    let value: ONNXValue
    do {
      value = try graph.run([.float(blank)], keeping: source.slot)
    } catch {
      return "\(source.description) could not be computed: \(error)"
    }
    guard case .float(let tensor) = value, tensor.shape.first == batchSize, tensor.count > 0
    else {
      return
        "\(source.description) is not one Float32 row per image (shape \(value.shape) for \(batchSize) images)"
    }
    return nil
  }

  /// `the input of node 'fc' (Gemm)`.
  public var embeddingLayer: String {
    graph.embeddingSource?.description ?? "no fully connected layer"
  }

  /// The embedding of every row of `data` (8-bit rows a chunk at a time).
  public func embed(_ data: Dataset) -> Matrix {
    switch data.storage {
    case .doubles(let features): return embed(features)
    case .pixels:
      return data.stackingChunks(chunkRows) { rows in embed(rows.doubles()) }
    }
  }

  /// The embedding of image rows (`[rows, featureCount]`, H×W×C in [0, 1]): the value the
  /// graph computes at `embeddingSource`, one row per image (flattened), in Double.
  public func embed(_ features: Matrix) -> Matrix {
    precondition(
      features.columns == featureCount,
      "features have \(features.columns) columns, the model \(featureCount)")
    guard let source = graph.embeddingSource else {
      preconditionFailure("the ONNX graph has no embedding: \(embeddingProblem ?? "")")
    }
    let rowCount = features.rows
    let size = batchSize
    let starts = Array(stride(from: 0, to: rowCount, by: size))
    let settings = hyperparameters
    let parts: [[Float]] = features.storage.withUnsafeBufferPointer { values in
      let width = featureCount
      return withSingleThreadedBLAS {
        mapParts(starts.count, workers: ModelThreads.count) { part in
          let start = starts[part]
          let count = min(size, rowCount - start)
          // As `scored`: a fixed batch gets full batches, the padding repeats the last image.
          let input = Self.input(settings, count: size) { n, index in
            values[(start + min(n, count - 1)) * width + index]
          }
          let value: ONNXValue
          do {
            value = try graph.run([.float(input)], keeping: source.slot)
          } catch {
            preconditionFailure("the ONNX graph failed on a batch it ran at load: \(error)")
          }
          guard case .float(let output) = value, output.count % size == 0 else {
            preconditionFailure("the embedding is not a Float32 tensor with one row per image")
          }
          return Array(output.values[0..<(count * (output.count / size))])
        }
      }
    }
    let total = parts.reduce(0) { $0 + $1.count }
    let columns = rowCount == 0 ? 0 : total / rowCount
    var storage: [Double] = []
    storage.reserveCapacity(total)
    for part in parts { storage.append(contentsOf: part.lazy.map { Double($0) }) }
    return Matrix(rows: rowCount, columns: columns, storage: storage)
  }
}

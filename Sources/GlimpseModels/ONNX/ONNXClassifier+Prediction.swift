import GlimpseCore

extension ONNXClassifier {
  /// Class probabilities of image rows (`[rows, featureCount]`, H×W×C in [0, 1]).
  public func predictProbabilities(_ features: Matrix) -> Matrix {
    precondition(
      features.columns == featureCount,
      "features have \(features.columns) columns, the model \(featureCount)")
    return features.storage.withUnsafeBufferPointer { values in
      let width = featureCount
      return scored(rowCount: features.rows) { row, index in values[row * width + index] }
    }
  }

  /// Class probabilities of LIME's perturbed images (pixel p of row r is
  /// `base[p] + coefficients[r, groups[p]] · delta[p]`).
  ///
  /// When the graph's first convolution reads the image alone (`ONNXGraph+Stem`) and it pays,
  /// that convolution is computed once per superpixel and summed per row
  /// (`ONNXClassifier+StemSum`), within 1e-5 of scoring the materialised rows; with 0/1
  /// coefficients the maps after it are then computed once per position and distinct pattern
  /// of the superpixels their receptive field reaches, as long as that pays (`SampleReuse`);
  /// otherwise each
  /// image is built straight into the graph's Float32 input, in Double as `materialized()`
  /// computes it, and the result is the bits of scoring the materialised rows.
  public func predictProbabilities(_ batch: MaskedBatch) -> Matrix {
    precondition(
      batch.base.count == featureCount,
      "masked images have \(batch.base.count) values, the model \(featureCount)")
    if let sum = stemSum(batch) { return scoredReusing(batch, stem: sum) }
    let groupCount = batch.groupCount
    return batch.base.withUnsafeBufferPointer { base in
      batch.delta.withUnsafeBufferPointer { delta in
        batch.groups.withUnsafeBufferPointer { groups in
          batch.coefficients.storage.withUnsafeBufferPointer { coefficients in
            scored(rowCount: batch.rows) { row, p in
              base[p] + coefficients[row * groupCount + Int(groups[p])] * delta[p]
            }
          }
        }
      }
    }
  }

  /// A masked batch is scored without writing its images out, a graph batch at a time (the
  /// memory per row is its probabilities), so LIME sends all its samples in one call and the
  /// per-call work of the stem sum is done once per explanation.
  public var scoresMaskedBatchesWithoutImages: Bool { true }

  /// A masked batch's graph batches and `SampleReuse`'s items are spread over the model's
  /// threads, so segmenters' batches go one after another: with two segmenters side by side,
  /// each on one thread, the last one ran alone on one core (LIME over six segmenters through
  /// the width-16 ResNet-18: 8.0 and 8.4 s one after another against 8.6 and 9.7 s side by side,
  /// the same explanations).
  public var scoresMaskedBatchesOnEveryThread: Bool { true }

  /// The stem's per-group parts for `batch`, when the graph has a stem that reads the image in
  /// the classifier's layout and precomputing pays (`StemSum`).
  func stemSum(_ batch: MaskedBatch) -> StemSum? {
    guard let stem = graph.stem, stem.transposed == (hyperparameters.layout == .nhwc) else {
      return nil
    }
    do {
      return try StemSum(stem: stem, settings: hyperparameters, batch: batch)
    } catch {
      // The stem ran on this image size when the classifier was made.
      preconditionFailure("the ONNX stem convolution failed on its own image size: \(error)")
    }
  }

  /// Scores a masked batch through its stem sum, in parts of at most `maximumRows` rows each
  /// through `SampleReuse` where it applies (its tables hold rows × positions entries per
  /// map: 1000 rows of a 112×112 stem output take 50 MB, so 10 000 samples go in ten parts).
  func scoredReusing(
    _ batch: MaskedBatch, stem sum: StemSum, maximumRows: Int = SampleReuse.maximumRows
  ) -> Matrix {
    guard batch.rows > maximumRows else {
      if let reuse = sampleReuse(batch, sum: sum) { return scored(batch, reuse: reuse) }
      return scored(batch, stem: sum)
    }
    var result = Matrix(rows: batch.rows, columns: classNames.count)
    let columns = batch.groupCount
    for start in stride(from: 0, to: batch.rows, by: maximumRows) {
      let count = min(maximumRows, batch.rows - start)
      var part = batch
      part.coefficients = Matrix(rows: count, columns: columns) { r, g in
        batch.coefficients[start + r, g]
      }
      let scores = scoredReusing(part, stem: sum, maximumRows: maximumRows)
      let width = result.columns
      result.storage.replaceSubrange(
        (start * width)..<((start + count) * width), with: scores.storage)
    }
    return result
  }

  /// The first maps of `batch` computed once per position and class of rows (`SampleReuse`),
  /// when the coefficients are 0 or 1 and it pays.
  func sampleReuse(_ batch: MaskedBatch, sum: StemSum) -> SampleReuse? {
    withSingleThreadedBLAS { SampleReuse(graph: graph, sum: sum, batch: batch) }
  }

  /// Scores a masked batch from the items of its first maps: each graph batch's exit maps
  /// written out from the items, the rest of the graph run on them.
  func scored(_ batch: MaskedBatch, reuse: SampleReuse) -> Matrix {
    let size = batchSize
    return scored(rowCount: batch.rows) { start, count throws(ONNXError) in
      var filled: [Int: ONNXValue] = [:]
      for exit in reuse.exits {
        filled[exit.slot] = .float(
          SampleReuse.tensor(exit.map, start: start, count: count, size: size))
      }
      return try graph.run(filled: filled, skipping: reuse.skipped)
    }
  }

  /// Scores a masked batch through its stem sum: each graph batch's first-convolution output
  /// assembled per row, the rest of the graph run on it.
  func scored(_ batch: MaskedBatch, stem sum: StemSum) -> Matrix {
    let size = batchSize
    let groupCount = batch.groupCount
    return batch.coefficients.storage.withUnsafeBufferPointer { coefficients in
      scored(rowCount: batch.rows) { start, count throws(ONNXError) in
        let perRow = sum.rowCount
        let values = [Float](unsafeUninitializedCapacity: size * perRow) { buffer, initialized in
          guard let out = buffer.baseAddress, let c = coefficients.baseAddress else { return }
          for n in 0..<size {
            // Padding rows of a fixed batch repeat the last image.
            sum.write(c + (start + min(n, count - 1)) * groupCount, into: out + n * perRow)
          }
          initialized = size * perRow
        }
        return try graph.run(
          stemOutput: Tensor(shape: [size, sum.channels, sum.height, sum.width], values: values))
      }
    }
  }

  /// Runs the graph on batches of rows whose values `value(row, index)` gives (called from
  /// several threads at once) and stacks the probabilities.
  func scored(rowCount: Int, value: (Int, Int) -> Double) -> Matrix {
    let settings = hyperparameters
    let size = batchSize
    return scored(rowCount: rowCount) { start, count throws(ONNXError) in
      // A graph with a fixed batch gets full batches; the padding rows repeat the last image.
      let input = Self.input(settings, count: size) { n, index in
        value(start + min(n, count - 1), index)
      }
      return try graph.run([.float(input)])
    }
  }

  /// Stacks the probabilities of batches of `batchSize` rows, the graph outputs of the rows
  /// `start ..< start + count` (padded to a full batch) given by `outputs(start, count)`, called
  /// from several threads at once.
  func scored(
    rowCount: Int, outputs run: (Int, Int) throws(ONNXError) -> [ONNXValue]
  ) -> Matrix {
    var result = Matrix(rows: rowCount, columns: classNames.count)
    let size = batchSize
    let starts = Array(stride(from: 0, to: rowCount, by: size))
    guard !starts.isEmpty else { return result }
    let classes = classNames.count
    let settings = hyperparameters
    withSingleThreadedBLAS {
      result.storage.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        // The result's storage, handed to batches that each write their own rows.
        let target = UncheckedSendable(base)
        _ = mapParts(starts.count, workers: ModelThreads.count) { part in
          let start = starts[part]
          let count = min(size, rowCount - start)
          let outputs: [ONNXValue]
          do {
            outputs = try run(start, count)
          } catch {
            // The graph ran on a batch of this size when the classifier was made; only the
            // values differ now, no supported operator fails on float values, and integers
            // computed from image data are refused at load (`ONNXGraph`).
            preconditionFailure("the ONNX graph failed on a batch it ran at load: \(error)")
          }
          guard case .float(let output) = outputs[0], output.count == size * classes else {
            preconditionFailure("the ONNX graph's output changed shape since load")
          }
          for n in 0..<count {
            let row = target.value + (start + n) * classes
            let scores = output.values[(n * classes)..<((n + 1) * classes)]
            switch settings.output {
            case .probabilities:
              for (k, p) in scores.enumerated() { row[k] = Double(p) }
            case .logits:
              // Softmax in Double, the largest score subtracted first.
              let largest = Double(scores.max() ?? 0)
              var sum = 0.0
              for (k, s) in scores.enumerated() {
                row[k] = exp(Double(s) - largest)
                sum += row[k]
              }
              for k in 0..<classes { row[k] /= sum }
            }
          }
        }
      }
    }
    return result
  }

  /// The graph input for `count` images whose values `value(image, index)` gives (index into
  /// the H×W×C row), preprocessed as the model expects.
  static func input(
    _ settings: Hyperparameters, count: Int, value: (Int, Int) -> Double
  ) -> Tensor<Float> {
    let (h, w, c) = (settings.height, settings.width, settings.channels)
    let plane = h * w
    var values = [Float](repeating: 0, count: count * plane * c)
    values.withUnsafeMutableBufferPointer { out in
      for n in 0..<count {
        let image = n * plane * c
        for channel in 0..<c {
          let source = settings.bgr ? c - 1 - channel : channel
          let (mean, std) = (settings.mean[channel], settings.std[channel])
          for pixel in 0..<plane {
            let x = (value(n, pixel * c + source) * settings.scale - mean) / std
            let target =
              settings.layout == .nchw
              ? image + channel * plane + pixel : image + pixel * c + channel
            out[target] = Float(x)
          }
        }
      }
    }
    let shape = settings.layout == .nchw ? [count, c, h, w] : [count, h, w, c]
    return Tensor(shape: shape, values: values)
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

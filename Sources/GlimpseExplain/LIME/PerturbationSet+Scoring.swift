import GlimpseCore
import GlimpseModels
import GlimpseSegmentation

extension PerturbationSet {
  /// The model's probabilities for every row of masks, `[sampleCount, classes]`, asked for
  /// `batchSize` rows at a time.
  func scored(batchSize: Int, score: (PerturbationSet, Range<Int>) -> Matrix) -> Matrix {
    var probabilities = Matrix(rows: 0, columns: 0)
    var start = 0
    while start < sampleCount {
      let rows = min(batchSize, sampleCount - start)
      let predicted = score(self, start..<(start + rows))
      precondition(
        predicted.rows == rows, "the classifier returned \(predicted.rows) rows for \(rows)")
      if probabilities.rows == 0 {
        probabilities = Matrix(rows: sampleCount, columns: predicted.columns)
      }
      for r in 0..<rows {
        for c in 0..<predicted.columns { probabilities[start + r, c] = predicted[r, c] }
      }
      start += rows
    }
    return probabilities
  }

  /// Every row scored by a classifier as `MaskedBatch`es (the hidden image plus the segments
  /// switched back on), as LIME scores its samples; models that score masked batches without
  /// images get every row in one call.
  func scored(
    image: Image, segments: SegmentMap, fill: [Double], classifier: some Classifier,
    batchSize: Int
  ) -> Matrix {
    let (base, delta, groups) = Self.maskedParts(image: image, segments: segments, fill: fill)
    let batch = classifier.scoresMaskedBatchesWithoutImages ? max(sampleCount, 1) : batchSize
    return scored(batchSize: batch) { masks, rows in
      classifier.predictProbabilities(
        MaskedBatch(
          base: base, delta: delta, groups: groups, groupCount: segments.count,
          coefficients: masks.coefficients(rows: rows)))
    }
  }

  /// Every row scored by a probability function on written-out images, `batchSize` at a time.
  func scored(
    image: Image, segments: SegmentMap, fill: [Double], batchSize: Int,
    predict: (Matrix) -> Matrix
  ) -> Matrix {
    scored(batchSize: batchSize) { masks, rows in
      predict(masks.render(rows: rows, image: image, segments: segments, fill: fill))
    }
  }
}

extension LimeImageExplainer.HideColor {
  /// The value a hidden pixel takes, per segment and channel, `[segments.count × channels]`:
  /// lime's "fudged" image.
  func fill(_ image: Image, _ segments: SegmentMap) -> [Double] {
    let channels = image.channels
    switch self {
    case .constant(let value):
      return [Double](repeating: value, count: segments.count * channels)
    case .segmentMean:
      // A segment of one value per channel gets exactly that value: a sum of k equal values
      // divided by k can miss it by an ulp, and then hiding the segment would change its
      // pixels, so KernelSHAP could not see it as a dummy.
      let size = segments.count * channels
      var sums = [Double](repeating: 0, count: size)
      var lowest = [Double](repeating: .infinity, count: size)
      var highest = [Double](repeating: -.infinity, count: size)
      let sizes = segments.sizes
      for (pixel, label) in segments.labels.enumerated() {
        for c in 0..<channels {
          let (slot, value) = (Int(label) * channels + c, image.pixels[pixel * channels + c])
          sums[slot] += value
          lowest[slot] = min(lowest[slot], value)
          highest[slot] = max(highest[slot], value)
        }
      }
      for s in 0..<segments.count {
        for c in 0..<channels {
          let slot = s * channels + c
          sums[slot] =
            lowest[slot] == highest[slot] ? lowest[slot] : sums[slot] / Double(max(sizes[s], 1))
        }
      }
      return sums
    }
  }
}

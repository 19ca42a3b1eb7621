import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

/// LIME's binary samples: which segments each perturbed image keeps.
struct PerturbationSet {
  let segmentCount: Int
  let sampleCount: Int
  /// `[sampleCount × segmentCount]`, 1 = keep the segment, 0 = hide it; row 0 keeps all.
  let masks: [UInt8]

  init(segmentCount: Int, sampleCount: Int, using rng: inout some RandomNumberGenerator) {
    self.segmentCount = segmentCount
    self.sampleCount = sampleCount
    var masks = [UInt8](repeating: 1, count: sampleCount * segmentCount)
    var bits: UInt64 = 0
    var left = 0
    for index in segmentCount..<(sampleCount * segmentCount) {
      if left == 0 {
        bits = rng.next()
        left = 64
      }
      masks[index] = UInt8(bits & 1)
      bits >>= 1
      left -= 1
    }
    self.masks = masks
  }

  /// Wraps given masks (for tests against reference mask matrices).
  init(segmentCount: Int, sampleCount: Int, masks: [UInt8]) {
    precondition(masks.count == segmentCount * sampleCount, "masks must be samples × segments")
    self.segmentCount = segmentCount
    self.sampleCount = sampleCount
    self.masks = masks
  }

  /// The perturbed images of `rows` as feature rows: kept segments show the image, hidden ones
  /// the fill value of their segment.
  func render(rows: Range<Int>, image: Image, segments: SegmentMap, fill: [Double]) -> Matrix {
    let width = image.pixels.count
    let channels = image.channels
    var batch = Matrix(rows: rows.count, columns: width)
    batch.storage.withUnsafeMutableBufferPointer { out in
      image.pixels.withUnsafeBufferPointer { pixels in
        segments.labels.withUnsafeBufferPointer { labels in
          masks.withUnsafeBufferPointer { masks in
            fill.withUnsafeBufferPointer { fill in
              guard let out = out.baseAddress, let pixels = pixels.baseAddress,
                let labels = labels.baseAddress, let masks = masks.baseAddress,
                let fill = fill.baseAddress
              else { return }
              for (r, sample) in rows.enumerated() {
                let mask = masks + sample * segmentCount
                let row = out + r * width
                for p in 0..<(width / channels) {
                  let segment = Int(labels[p])
                  if mask[segment] != 0 {
                    for c in 0..<channels { row[p * channels + c] = pixels[p * channels + c] }
                  } else {
                    for c in 0..<channels { row[p * channels + c] = fill[segment * channels + c] }
                  }
                }
              }
            }
          }
        }
      }
    }
    return batch
  }

  /// The masks of `rows` as a `[rows, segments]` matrix of 0/1.
  func coefficients(rows: Range<Int>) -> Matrix {
    Matrix(
      rows: rows.count, columns: segmentCount,
      storage: masks[(rows.lowerBound * segmentCount)..<(rows.upperBound * segmentCount)].map(
        Double.init))
  }

  /// The perturbed images as a `MaskedBatch`'s parts: the base is the image with every segment
  /// hidden, `delta` is image − fill, and each column's group is its pixel's segment.
  static func maskedParts(image: Image, segments: SegmentMap, fill: [Double]) -> (
    base: [Double], delta: [Double], groups: [Int32]
  ) {
    let channels = image.channels
    let width = image.pixels.count
    var base = [Double](repeating: 0, count: width)
    var delta = [Double](repeating: 0, count: width)
    var groups = [Int32](repeating: 0, count: width)
    for (pixel, label) in segments.labels.enumerated() {
      let s = Int(label)
      for c in 0..<channels {
        let index = pixel * channels + c
        base[index] = fill[s * channels + c]
        delta[index] = image.pixels[index] - fill[s * channels + c]
        groups[index] = label
      }
    }
    return (base, delta, groups)
  }

  /// These masks over `features` (segment numbers) spread to `segmentCount` segments, the
  /// others on in every sample: a region of interest's outside stays as in the image.
  func expanded(to segmentCount: Int, features: [Int]) -> PerturbationSet {
    var full = [UInt8](repeating: 1, count: sampleCount * segmentCount)
    for sample in 0..<sampleCount {
      for (j, segment) in features.enumerated() {
        full[sample * segmentCount + segment] = masks[sample * self.segmentCount + j]
      }
    }
    return PerturbationSet(segmentCount: segmentCount, sampleCount: sampleCount, masks: full)
  }

  /// The masks as a `[samples, segments]` matrix of 0/1, the surrogate's inputs.
  func designMatrix() -> Matrix {
    Matrix(rows: sampleCount, columns: segmentCount, storage: masks.map(Double.init))
  }

  /// lime's sample weights: kernel sqrt(exp(−d²/w²)) of the cosine distance d between each mask
  /// and the all-ones mask. For a 0/1 vector with k ones among n, d = 1 − √(k/n) (and 1 for k = 0,
  /// as scikit-learn's cosine distance treats a zero vector).
  func kernelWeights(width: Double) -> [Double] {
    (0..<sampleCount).map { sample in
      var ones = 0
      for s in 0..<segmentCount { ones += Int(masks[sample * segmentCount + s]) }
      let distance = ones == 0 ? 1 : 1 - (Double(ones) / Double(segmentCount)).squareRoot()
      return exp(-(distance * distance) / (width * width)).squareRoot()
    }
  }
}

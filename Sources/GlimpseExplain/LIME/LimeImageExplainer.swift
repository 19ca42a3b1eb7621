import GlimpseCore
import GlimpseModels
import GlimpseSegmentation

// Implementation notes
// Faithful to lime 0.2.0.1's `LimeImageExplainer.explain_instance` (Ribeiro, Singh & Guestrin,
// "Why Should I Trust You?", KDD 2016), with these deliberate differences:
// 1. Every segment is perturbed. lime numbers features 0..<K but perturbs the pixels whose
//    label equals the feature number; with scikit-image's SLIC labels starting at 1, lime's
//    feature 0 is empty and the last segment is never switched off. `SegmentMap` labels are
//    0..<count by construction, so feature k is segment k.
// 2. Score, local prediction and intercept are kept for every explained label (lime keeps score
//    and local_pred of the last label only).
// 3. Masks come from our seeded generator, so the samples differ from lime's for the same seed;
//    the distribution is the same (each segment kept with probability 1/2, first sample all on).
// Steps: the "fudged" image (each segment filled with its mean colour, or a constant); binary
// masks; perturbed images rendered straight into batches of rows that the classifier scores in
// one call each; cosine distance of each mask to the all-ones mask; kernel sqrt(exp(−d²/w²))
// with w = 0.25; `LocalSurrogate` (ridge, α = 1) per requested label. By default every segment
// enters the surrogate (lime's "auto" with num_features ≥ segments keeps them all); with
// `featureCount` set, lime's feature selection picks the segments per label first
// (`LocalSurrogate.fitSelected`, lime_base.py's `explain_instance_with_data`).

/// Explains one image's classification by which superpixels raise or lower each class.
public struct LimeImageExplainer: Sendable {
  /// What a hidden segment is filled with.
  public enum HideColor: Sendable, Equatable, Codable {
    /// The segment's mean colour (lime's `hide_color=None`).
    case segmentMean
    /// One value in every channel (lime's `hide_color=v`).
    case constant(Double)
  }

  /// Perturbed samples per explanation, the first being the image itself.
  public var sampleCount = 1000
  /// Rows per classifier call.
  public var batchSize = 100
  /// Width of the exponential kernel on cosine distances.
  public var kernelWidth = 0.25
  /// Fill of hidden segments.
  public var hideColor = HideColor.segmentMean
  /// Ridge penalty of the surrogate.
  public var ridgeAlpha = 1.0
  /// lime's `num_features`: at most this many segments per class get a nonzero weight, chosen
  /// by `featureSelection`; `nil` (the default) keeps every segment without selection.
  public var featureCount: Int? = nil
  /// lime's `feature_selection`, used when `featureCount` is set.
  public var featureSelection = LocalSurrogate.FeatureSelection.auto
  /// A region of interest (`explain --mask`), or `nil`: only segments with a pixel inside it
  /// are features; the others are shown as in the image in every sample and get weight 0.
  /// Give segments that do not straddle it (a masked SLIC's, or `SegmentMap.restricted(to:)`).
  public var regionOfInterest: RegionMask? = nil

  /// lime's defaults (1000 samples; batches of 100).
  public init() {}

  /// Explains `image` for the classes `labels` with a black-box probability function.
  /// - Parameters:
  ///   - image: the image as the model sees it (its values, flattened, are a feature row).
  ///   - segments: its segmentation.
  ///   - labels: class indices to explain (e.g. the first and second choice).
  ///   - rng: the masks' source of randomness.
  ///   - predict: class probabilities for a batch of rows, `[rows, classes]`.
  public func explain(
    _ image: Image, segments: SegmentMap, segmenter: SegmenterSpec? = nil, labels: [Int],
    using rng: inout some RandomNumberGenerator, predict: (Matrix) -> Matrix
  ) -> ImageExplanation {
    let fill = fudgedValues(image, segments)
    return explain(image, segments: segments, segmenter: segmenter, labels: labels, using: &rng) {
      masks, rows in
      predict(masks.render(rows: rows, image: image, segments: segments, fill: fill))
    }
  }

  /// Explains with a classifier's probabilities. The perturbed images go to the classifier as a
  /// `MaskedBatch` (the hidden image, what each segment adds back, and the masks), which kernel
  /// and linear models score without writing the images out.
  public func explain(
    _ image: Image, segments: SegmentMap, segmenter: SegmenterSpec? = nil, labels: [Int],
    classifier: some Classifier, using rng: inout some RandomNumberGenerator
  ) -> ImageExplanation {
    let fill = fudgedValues(image, segments)
    let (base, delta, groups) = PerturbationSet.maskedParts(
      image: image, segments: segments, fill: fill)
    // A masked batch that the model scores without images costs rows × support vectors of
    // memory, not rows × pixels: score every sample in one call, so the per-batch work on the
    // model side is done once. Other models get the images written out, `batchSize` at a time.
    var batched = self
    if classifier.scoresMaskedBatchesWithoutImages { batched.batchSize = sampleCount }
    return batched.explain(
      image, segments: segments, segmenter: segmenter, labels: labels, using: &rng
    ) { masks, rows in
      classifier.predictProbabilities(
        MaskedBatch(
          base: base, delta: delta, groups: groups, groupCount: segments.count,
          coefficients: masks.coefficients(rows: rows)))
    }
  }

  /// The common path: masks, scores in batches, kernel weights, surrogate.
  func explain(
    _ image: Image, segments: SegmentMap, segmenter: SegmenterSpec?, labels: [Int],
    using rng: inout some RandomNumberGenerator, score: (PerturbationSet, Range<Int>) -> Matrix
  ) -> ImageExplanation {
    precondition(
      segments.width == image.width && segments.height == image.height,
      "segments \(segments.width)×\(segments.height) do not match image \(image.width)×\(image.height)"
    )
    precondition(sampleCount >= 2 && batchSize >= 1, "need at least 2 samples and a batch of 1")
    // Features: every segment, or those inside the region of interest. Masks are drawn over
    // the features and shown in full, with the other segments always on.
    let features =
      regionOfInterest.map { segments.segments(inside: $0) } ?? Array(0..<segments.count)
    let featureMasks = PerturbationSet(
      segmentCount: features.count, sampleCount: sampleCount, using: &rng)
    let masks =
      features.count == segments.count
      ? featureMasks : featureMasks.expanded(to: segments.count, features: features)
    var probabilities = Matrix(rows: 0, columns: 0)
    var start = 0
    while start < sampleCount {
      let rows = min(batchSize, sampleCount - start)
      let predicted = score(masks, start..<(start + rows))
      if probabilities.rows == 0 {
        probabilities = Matrix(rows: sampleCount, columns: predicted.columns)
      }
      precondition(
        predicted.rows == rows, "the classifier returned \(predicted.rows) rows for \(rows)")
      for r in 0..<rows {
        for c in 0..<predicted.columns { probabilities[start + r, c] = predicted[r, c] }
      }
      start += rows
    }
    let weights = featureMasks.kernelWeights(width: kernelWidth)
    let targets = Matrix(rows: sampleCount, columns: labels.count) { probabilities[$0, labels[$1]] }
    let design = featureMasks.designMatrix()
    let surrogate: LocalSurrogate
    if let featureCount {
      let fits = labels.indices.map { k in
        LocalSurrogate.fitSelected(
          features: design, target: (0..<sampleCount).map { targets[$0, k] }, weights: weights,
          count: featureCount, method: featureSelection, alpha: ridgeAlpha
        ).surrogate
      }
      surrogate = LocalSurrogate(
        coefficients: fits.map { $0.coefficients[0] }, intercepts: fits.map { $0.intercepts[0] },
        scores: fits.map { $0.scores[0] })
    } else {
      surrogate = LocalSurrogate.fit(
        features: design, targets: targets, weights: weights, alpha: ridgeAlpha)
    }
    let allOn = [Double](repeating: 1, count: features.count)
    // Segments that are not features weigh 0 (the outside of the region of interest).
    var segmentWeights = surrogate.coefficients
    if features.count != segments.count {
      segmentWeights = surrogate.coefficients.map { row in
        var full = [Double](repeating: 0, count: segments.count)
        for (j, segment) in features.enumerated() { full[segment] = row[j] }
        return full
      }
    }
    return ImageExplanation(
      segments: segments, segmenter: segmenter, labels: labels, weights: segmentWeights,
      intercepts: surrogate.intercepts, scores: surrogate.scores,
      localPredictions: labels.indices.map { surrogate.predict(allOn, target: $0) },
      probabilities: labels.map { probabilities[0, $0] }, sampleCount: sampleCount)
  }

  /// The value a hidden pixel takes, per segment and channel, `[segments.count × channels]`.
  func fudgedValues(_ image: Image, _ segments: SegmentMap) -> [Double] {
    hideColor.fill(image, segments)
  }
}

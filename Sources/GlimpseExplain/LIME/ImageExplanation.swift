import GlimpseCore
import GlimpseSegmentation

/// LIME's answer for one image and one segmentation: a weight per segment for each explained
/// class, how well the local linear model fits, and what the model predicted.
public struct ImageExplanation: Sendable, Equatable {
  /// The segmentation the weights refer to.
  public var segments: SegmentMap
  /// The spec of the segmenter that made it, when known.
  public var segmenter: SegmenterSpec?
  /// The explained classes (indices into the model's classes), in the order asked for.
  public var labels: [Int]
  /// Per explained class, one weight per segment: how much keeping the segment (rather than
  /// hiding it) adds to the class probability, in probability units.
  public var weights: [[Double]]
  /// Per explained class, the surrogate's intercept.
  public var intercepts: [Double]
  /// Per explained class, the surrogate's weighted R² on the samples.
  public var scores: [Double]
  /// Per explained class, the surrogate's prediction for the unperturbed image.
  public var localPredictions: [Double]
  /// Per explained class, the model's probability for the unperturbed image.
  public var probabilities: [Double]
  /// Number of perturbed samples.
  public var sampleCount: Int
  /// The deletion and insertion curves of the first explained class's weights, when measured
  /// (`CombinedExplanation.explain(_:segmenters:labels:method:seed:classifier:faithfulness:)`).
  public var faithfulness: DeletionInsertionCurves? = nil

  /// The weight of every pixel (its segment's weight) for explained class number `index`.
  public func pixelWeights(_ index: Int) -> [Double] {
    let w = weights[index]
    return segments.labels.map { w[Int($0)] }
  }
}

import GlimpseCore
import GlimpseModels
import GlimpseSegmentation

// Implementation notes
// Petsiuk, Das & Saenko, "RISE: Randomized Input Sampling for Explanation of Black-box Models",
// BMVC 2018, §4.1: deletion removes the most important pixels first and watches the class's
// probability fall (a steep fall, a small area, means the explanation found what the model
// uses); insertion starts from a blank image and adds the most important pixels first (a fast
// rise, a large area, is good). Over superpixels a step is one segment, in order of decreasing
// weight (ties by segment number), and "removed" means filled as the explainer hid it, so the
// curves ask the model about the same images the explanation was built from. Step k of M has
// the first k segments hidden (deletion) or shown (insertion); all 2(M + 1) images are scored
// as one masked batch. Each area is the trapezoid rule over the fraction of segments k/M, so it
// lies in [0, 1] for probabilities. (RISE steps by pixels; stepping by segments weighs each
// segment equally whatever its size.)

/// The deletion and insertion curves of one explanation for one class, and their areas.
public struct DeletionInsertionCurves: Sendable, Equatable, Codable {
  /// The class's probability with the first k segments (by weight) hidden, k = 0...M:
  /// starts at f(image), ends at f(all hidden).
  public var deletion: [Double]
  /// The class's probability with only the first k segments shown, k = 0...M: starts at
  /// f(all hidden), ends at f(image).
  public var insertion: [Double]
  /// The area under the deletion curve over the fraction of segments (lower is better).
  public var deletionArea: Double
  /// The area under the insertion curve over the fraction of segments (higher is better).
  public var insertionArea: Double

  /// Curves from their points; the areas are computed (`area(of:)`).
  public init(deletion: [Double], insertion: [Double]) {
    self.deletion = deletion
    self.insertion = insertion
    deletionArea = Self.area(of: deletion)
    insertionArea = Self.area(of: insertion)
  }

  /// The trapezoid rule over points at 0, 1/M, ..., 1 (M + 1 points); a single point is its
  /// own area.
  public static func area(of curve: [Double]) -> Double {
    guard curve.count >= 2 else { return curve.first ?? 0 }
    var sum = 0.0
    for k in 1..<curve.count { sum += (curve[k - 1] + curve[k]) / 2 }
    return sum / Double(curve.count - 1)
  }

  /// Segment numbers in order of decreasing weight, ties by number.
  public static func order(_ weights: [Double]) -> [Int] {
    weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
  }

  /// The 2(M + 1) masks of both curves for segment order `order`: rows 0...M deletion, then
  /// M + 1 rows of insertion.
  static func masks(order: [Int]) -> PerturbationSet {
    let m = order.count
    var masks = [UInt8](repeating: 0, count: 2 * (m + 1) * m)
    for k in 0...m {
      let deletion = k * m
      let insertion = (m + 1 + k) * m
      for j in 0..<m { masks[deletion + j] = 1 }
      for step in 0..<k {
        masks[deletion + order[step]] = 0
        masks[insertion + order[step]] = 1
      }
    }
    return PerturbationSet(segmentCount: m, sampleCount: 2 * (m + 1), masks: masks)
  }

  /// The curves of `weights` (one per segment) for class `label`, the images scored by a
  /// classifier as masked batches.
  /// - Parameters:
  ///   - hideColor: how a removed segment is filled (the explainer's fill).
  ///   - batchSize: rows per call for models that need the images written out.
  public static func measure(
    _ image: Image, segments: SegmentMap, weights: [Double], label: Int,
    hideColor: LimeImageExplainer.HideColor, classifier: some Classifier, batchSize: Int = 100
  ) -> DeletionInsertionCurves {
    let set = masks(order: order(weights))
    let scores = set.scored(
      image: image, segments: segments, fill: hideColor.fill(image, segments),
      classifier: classifier, batchSize: batchSize)
    return curves(scores, label: label, segmentCount: segments.count)
  }

  /// The curves with a black-box probability function on images.
  public static func measure(
    _ image: Image, segments: SegmentMap, weights: [Double], label: Int,
    hideColor: LimeImageExplainer.HideColor, batchSize: Int = 100, predict: (Matrix) -> Matrix
  ) -> DeletionInsertionCurves {
    let set = masks(order: order(weights))
    let scores = set.scored(
      image: image, segments: segments, fill: hideColor.fill(image, segments),
      batchSize: batchSize, predict: predict)
    return curves(scores, label: label, segmentCount: segments.count)
  }

  static func curves(_ scores: Matrix, label: Int, segmentCount m: Int) -> DeletionInsertionCurves {
    DeletionInsertionCurves(
      deletion: (0...m).map { scores[$0, label] },
      insertion: (0...m).map { scores[m + 1 + $0, label] })
  }
}

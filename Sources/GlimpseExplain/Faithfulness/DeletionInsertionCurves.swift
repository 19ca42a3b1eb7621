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
// curves ask the model about the same images the explanation was built from. A point has the
// first k segments hidden (deletion) or shown (insertion); all points of both curves are scored
// as one masked batch. With M ≤ `maxSteps` every k = 0...M is a point; with more segments the
// points are k = 0, s, 2s, ..., M with s = ⌈M / maxSteps⌉ (RISE too steps by a fixed number of
// pixels), which keeps the curves' cost near a tenth of a 500-sample LIME explanation even for
// grid:11's 121 segments. Each area is the trapezoid rule over the fraction of segments k/M, so
// it lies in [0, 1] for probabilities. (RISE steps by pixels; stepping by segments weighs each
// segment equally whatever its size.)

/// The deletion and insertion curves of one explanation for one class, and their areas.
public struct DeletionInsertionCurves: Sendable, Equatable, Codable {
  /// The fractions of segments k/M at which the curves are taken, from 0 to 1.
  public var fractions: [Double]
  /// The class's probability with the first k segments (by weight) hidden, at each fraction:
  /// starts at f(image), ends at f(all hidden).
  public var deletion: [Double]
  /// The class's probability with only the first k segments shown, at each fraction: starts
  /// at f(all hidden), ends at f(image).
  public var insertion: [Double]
  /// The area under the deletion curve over the fraction of segments (lower is better).
  public var deletionArea: Double
  /// The area under the insertion curve over the fraction of segments (higher is better).
  public var insertionArea: Double

  /// At most this many steps per curve (the default of `measure`).
  public static let defaultMaxSteps = 32

  /// Curves from their points at `fractions`; the areas are computed (`area(of:at:)`).
  public init(fractions: [Double], deletion: [Double], insertion: [Double]) {
    self.fractions = fractions
    self.deletion = deletion
    self.insertion = insertion
    deletionArea = Self.area(of: deletion, at: fractions)
    insertionArea = Self.area(of: insertion, at: fractions)
  }

  /// The trapezoid rule over points at `fractions` (increasing, from 0 to 1); a single point
  /// is its own area.
  public static func area(of curve: [Double], at fractions: [Double]) -> Double {
    guard curve.count >= 2 else { return curve.first ?? 0 }
    var sum = 0.0
    for k in 1..<curve.count {
      sum += (curve[k - 1] + curve[k]) / 2 * (fractions[k] - fractions[k - 1])
    }
    return sum
  }

  /// The numbers of segments removed or added at each point: 0...M, or 0, s, 2s, ..., M with
  /// s = ⌈M / maxSteps⌉ when M > maxSteps.
  public static func steps(segmentCount m: Int, maxSteps: Int) -> [Int] {
    let stride = max(1, (m + max(maxSteps, 1) - 1) / max(maxSteps, 1))
    var steps = Array(Swift.stride(from: 0, to: m, by: stride))
    steps.append(m)
    return steps
  }

  /// Segment numbers in order of decreasing weight, ties by number.
  public static func order(_ weights: [Double]) -> [Int] {
    weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
  }

  /// The masks of both curves for segment order `order` at `steps`: one deletion row per
  /// step, then one insertion row per step. `order` may list only some of the `segmentCount`
  /// segments (the features inside a region of interest); the others stay shown in every row.
  static func masks(order: [Int], steps: [Int], segmentCount: Int? = nil) -> PerturbationSet {
    let m = segmentCount ?? order.count
    let points = steps.count
    var masks = [UInt8](repeating: 0, count: 2 * points * m)
    let fixed = m == order.count ? [] : Set(0..<m).subtracting(order).sorted()
    for (row, k) in steps.enumerated() {
      let deletion = row * m
      let insertion = (points + row) * m
      for j in 0..<m { masks[deletion + j] = 1 }
      for j in fixed { masks[insertion + j] = 1 }
      for step in 0..<k {
        masks[deletion + order[step]] = 0
        masks[insertion + order[step]] = 1
      }
    }
    return PerturbationSet(segmentCount: m, sampleCount: 2 * points, masks: masks)
  }

  /// The curves of `weights` (one per segment) for class `label`, the images scored by a
  /// classifier as masked batches.
  /// - Parameters:
  ///   - hideColor: how a removed segment is filled (the explainer's fill).
  ///   - batchSize: rows per call for models that need the images written out.
  ///   - maxSteps: at most this many steps per curve (see `steps(segmentCount:maxSteps:)`).
  ///   - features: the segments the curves remove or add (default: all); the others, such as
  ///     the outside of a region of interest, stay as in the image at every point.
  public static func measure(
    _ image: Image, segments: SegmentMap, weights: [Double], label: Int,
    hideColor: LimeImageExplainer.HideColor, classifier: some Classifier, batchSize: Int = 100,
    maxSteps: Int = defaultMaxSteps, features: [Int]? = nil
  ) -> DeletionInsertionCurves {
    let fill = hideColor.fill(image, segments)
    return measure(
      segments.count, weights: weights, label: label, maxSteps: maxSteps, features: features
    ) {
      $0.scored(
        image: image, segments: segments, fill: fill, classifier: classifier,
        batchSize: batchSize)
    }
  }

  /// The curves with a black-box probability function on images (`features` as above).
  public static func measure(
    _ image: Image, segments: SegmentMap, weights: [Double], label: Int,
    hideColor: LimeImageExplainer.HideColor, batchSize: Int = 100,
    maxSteps: Int = defaultMaxSteps, features: [Int]? = nil, predict: (Matrix) -> Matrix
  ) -> DeletionInsertionCurves {
    let fill = hideColor.fill(image, segments)
    return measure(
      segments.count, weights: weights, label: label, maxSteps: maxSteps, features: features
    ) {
      $0.scored(
        image: image, segments: segments, fill: fill, batchSize: batchSize, predict: predict)
    }
  }

  /// The common path: the steps, their masks scored by `score`, the curves.
  static func measure(
    _ segmentCount: Int, weights: [Double], label: Int, maxSteps: Int, features: [Int]? = nil,
    score: (PerturbationSet) -> Matrix
  ) -> DeletionInsertionCurves {
    let ranked = features.map { f in order(f.map { weights[$0] }).map { f[$0] } } ?? order(weights)
    let steps = steps(segmentCount: ranked.count, maxSteps: maxSteps)
    let scores = score(masks(order: ranked, steps: steps, segmentCount: segmentCount))
    return curves(scores, label: label, steps: steps, segmentCount: ranked.count)
  }

  static func curves(_ scores: Matrix, label: Int, steps: [Int], segmentCount m: Int)
    -> DeletionInsertionCurves
  {
    let points = steps.count
    return DeletionInsertionCurves(
      fractions: steps.map { Double($0) / Double(max(m, 1)) },
      deletion: (0..<points).map { scores[$0, label] },
      insertion: (0..<points).map { scores[points + $0, label] })
  }
}

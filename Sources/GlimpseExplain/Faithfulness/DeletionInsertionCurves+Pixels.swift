import GlimpseCore
import GlimpseModels

// Implementation notes
// Petsiuk, Das & Saenko, RISE (BMVC 2018), §4.1, over pixels: the pixels in order of decreasing
// weight (ties by pixel index, row-major), removed (deletion) from the image or added
// (insertion) to the all-filled image s = ⌈N / steps⌉ pixels at a time (N = H·W, every
// channel of a pixel together), so a curve has ⌈N / s⌉ + 1 points: 0, s, 2s, ..., N pixels.
// A removed pixel takes the fill. Because the fill is the same for every method, the areas of
// a segment-level map (LIME, KernelSHAP, spread to pixels by `WeightMap`) and of a pixel-level
// one (occlusion, gradients) are measured on the same images and can be ranked together.
// The pixels of each step form one group, so the curves' images are a masked batch over at
// most `steps` groups (`PerturbationSet`): kernel and linear models score them without writing
// the images out. Areas: the trapezoid rule over the fraction of pixels, in [0, 1] for
// probabilities.

extension DeletionInsertionCurves {
  /// Steps per pixel curve unless told otherwise (RISE's fixed step of H·W/32 pixels).
  public static let defaultPixelSteps = 32

  /// The step of every pixel: pixel p is removed (or added) in step `⌊rank(p) / s⌋` with
  /// s = ⌈N / steps⌉, ranks by decreasing weight, ties by pixel index. Returns the steps as a
  /// segment map (step k = segment k) and s.
  static func pixelSteps(_ map: WeightMap, steps: Int) -> (SegmentMap, Int) {
    let n = map.values.count
    let stride = max(1, (n + max(steps, 1) - 1) / max(steps, 1))
    var labels = [Int32](repeating: 0, count: n)
    for (rank, pixel) in order(map.values).enumerated() { labels[pixel] = Int32(rank / stride) }
    return (SegmentMap(width: map.width, height: map.height, denseLabels: labels), stride)
  }

  /// The deletion and insertion curves of a per-pixel map for class `label`, the images scored
  /// by a classifier as masked batches (notes above).
  /// - Parameters:
  ///   - map: one weight per pixel (of any method), larger = more important for `label`.
  ///   - fill: the value of a removed pixel in each channel (`OcclusionExplainer.Fill.values`).
  ///   - steps: about this many steps per curve (RISE: H·W/steps pixels per step).
  ///   - batchSize: rows per call for models that need the images written out.
  public static func measurePixels(
    _ image: Image, map: WeightMap, label: Int, fill: [Double], classifier: some Classifier,
    steps: Int = defaultPixelSteps, batchSize: Int = 100
  ) -> DeletionInsertionCurves {
    measurePixels(
      image, map: map, label: label, fill: fill, steps: steps,
      score: { masks, groups, fills in
        masks.scored(
          image: image, segments: groups, fill: fills, classifier: classifier,
          batchSize: batchSize)
      })
  }

  /// The pixel curves with a black-box probability function on rows of image values.
  public static func measurePixels(
    _ image: Image, map: WeightMap, label: Int, fill: [Double], steps: Int = defaultPixelSteps,
    batchSize: Int = 100, predict: (Matrix) -> Matrix
  ) -> DeletionInsertionCurves {
    measurePixels(
      image, map: map, label: label, fill: fill, steps: steps,
      score: { masks, groups, fills in
        masks.scored(
          image: image, segments: groups, fill: fills, batchSize: batchSize, predict: predict)
      })
  }

  static func measurePixels(
    _ image: Image, map: WeightMap, label: Int, fill: [Double], steps: Int,
    score: (PerturbationSet, SegmentMap, [Double]) -> Matrix
  ) -> DeletionInsertionCurves {
    precondition(
      map.width == image.width && map.height == image.height,
      "map \(map.width)×\(map.height) does not match image \(image.width)×\(image.height)")
    precondition(fill.count == image.channels, "one fill value per channel")
    let (groups, stride) = pixelSteps(map, steps: steps)
    let n = map.values.count
    // Group k holds the k-th step's pixels; hiding groups 0..<k removes min(k·s, N) pixels.
    let points = Array(0...groups.count)
    let fills = (0..<groups.count).flatMap { _ in fill }
    let scores = score(masks(order: Array(0..<groups.count), steps: points), groups, fills)
    let curves = curves(scores, label: label, steps: points, segmentCount: groups.count)
    return DeletionInsertionCurves(
      fractions: points.map { Double(min($0 * stride, n)) / Double(max(n, 1)) },
      deletion: curves.deletion, insertion: curves.insertion)
  }
}

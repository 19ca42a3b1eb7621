import GlimpseCore

// Implementation notes (the loop of scikit-image 0.26's `_slic_cython`, without mask/SLICO)
// 1. Centres start on the grid with colour 0, not the colour under the seed: scikit-image
//    appends zeros for the colour features, so the first assignment is nearly spatial.
// 2. A pixel is compared with every centre whose window [c − 2·step, c + 2·step] (bounds
//    computed in floating point, truncated, clipped to the image) covers it, by
//    D = (Δy² + Δx²) / S² + Σ_c (pixel_c − centre_c)², the colour already multiplied by
//    1 / compactness, in scikit-image's order of operations. scikit-image visits the centres
//    in order and keeps a strictly smaller D, so a pixel goes to the lowest-numbered centre
//    among those at the minimum distance. We apply that rule explicitly
//    (`D < best || D == best && k < owner`), which makes the outcome independent of the order
//    in which candidates are tried, so the likely winner can be tried first (`KMeansState`).
// 3. Distances are reset every iteration, so scikit-image's "no pixel changed" test never
//    fires and all `maxIterations` iterations run; a pixel no window covers keeps its label.
// 4. Centres are means over their pixels, colour sums accumulated pixel by pixel in raster
//    order (scikit-image's order, so they round as its do). A centre left without pixels
//    becomes 0/0 = NaN there and is never chosen again unless a stale label revives it;
//    `alive` records exactly that.
// 5. Speed, without changing a label of the computation as specified (the pruning rules and
//    why they are exact are in `KMeansState.swift`): each pixel starts from its previous
//    centre, and blocks of pixels that a centre provably cannot win are skipped, so on the
//    photo about four fifths of scikit-image's 42 million distance evaluations are never made;
//    the rest run four pixels at a time (SIMD4, lane for lane the scalar operations) in bands
//    of rows on all cores. A pixel's outcome depends only on its own candidates, so neither the
//    band count nor the thread count changes a label.
// 6. Precision: images of 2¹⁴ pixels and more run in `Float` (half the memory traffic, twice
//    the lanes), which moves a few near-tie pixels against scikit-image's float64 (adjusted
//    Rand index 0.99996 on the 512 × 512 photo, same segment count); smaller ones run in
//    `Double` and give scikit-image's partitions exactly (see `ColourMetric.swift`).

extension SLICSegmenter {
  /// Runs SLIC's k-means from `seeds` on `features` (already scaled by 1 / compactness).
  /// - Returns: The centre index of each pixel, row-major; -1 only if no window ever covered
  ///   the pixel (never with the grid seeds).
  /// - Parameter bandHeight: Rows per parallel work item; by default 16 (a band's planes and
  ///   distances, 16 × width × 5 scalars, stay in the core's cache while the ~50 centres over
  ///   it are tried in turn), or the whole image when it is small. Labels do not depend on it.
  /// - Parameter workItems: How many parts the centre update is split into (by default one per
  ///   thread); labels do not depend on it either (tests compare 1 and 2).
  static func kMeans(
    _ features: FeaturePlanes, seeds: SLICSeeds, iterations: Int, bandHeight: Int? = nil,
    workItems: Int? = nil
  ) -> [Int32] {
    let rows = bandHeight ?? (features.pixelCount >= 1 << 14 ? 16 : features.height)
    let bands = contiguousChunks(
      of: features.height, parts: (features.height + max(rows, 1) - 1) / max(rows, 1))
    // Large images run in `Float`, small ones in `Double` (see `ColourMetric.swift`); labels
    // do not depend on the bands or threads in either.
    if features.pixelCount >= 1 << 14 {
      // Converted per chunk on all cores; each value is rounded on its own.
      let count = features.values.count
      var single = [Float](repeating: 0, count: count)
      features.values.withUnsafeBufferPointer { source in
        single.withUnsafeMutableBufferPointer { target in
          guard let input = source.baseAddress, let output = target.baseAddress else { return }
          forEachChunk(of: count) { part in
            for i in part { output[i] = Float(input[i]) }
          }
        }
      }
      return single.withUnsafeBufferPointer { planes in
        kMeans(
          features, planes: planes, seeds: seeds, iterations: iterations, bands: bands,
          workItems: workItems)
      }
    }
    return features.values.withUnsafeBufferPointer { planes in
      kMeans(
        features, planes: planes, seeds: seeds, iterations: iterations, bands: bands,
        workItems: workItems)
    }
  }

  /// Picks the metric for the channel count and weight.
  private static func kMeans<Scalar: KMeansScalar>(
    _ features: FeaturePlanes, planes: UnsafeBufferPointer<Scalar>, seeds: SLICSeeds,
    iterations: Int, bands: [Range<Int>], workItems: Int?
  ) -> [Int32] {
    guard let planes = planes.baseAddress else { return [] }
    switch (features.channels, features.colourWeight) {
    case (1, _):
      return kMeans(
        features, planes: planes, seeds: seeds, iterations: iterations, bands: bands,
        workItems: workItems, metric: GreyMetric<Scalar>.self)
    case (3, 1):
      return kMeans(
        features, planes: planes, seeds: seeds, iterations: iterations, bands: bands,
        workItems: workItems, metric: RGBMetric<Scalar>.self)
    default:
      return kMeans(
        features, planes: planes, seeds: seeds, iterations: iterations, bands: bands,
        workItems: workItems, metric: AnyMetric<Scalar>.self)
    }
  }

  private static func kMeans<Metric: ColourMetric>(
    _ features: FeaturePlanes, planes: UnsafePointer<Metric.Scalar>, seeds: SLICSeeds,
    iterations: Int, bands: [Range<Int>], workItems: Int?, metric: Metric.Type
  ) -> [Int32] {
    let state = KMeansState(features: features, planes: planes, seeds: seeds)
    let boxes = parallelMap(bands.count) { state.bandBoxes(rows: bands[$0]) }
    var runs: [BandRuns]? = nil
    for _ in 0..<iterations {
      state.computeWindows(stepY: seeds.windowStepY, stepX: seeds.windowStepX)
      let results = parallelMap(bands.count) { band in
        let assigned: Bool
        if let runs {
          assigned = runs[band].runs.withUnsafeBufferPointer { previous in
            state.assign(
              rows: bands[band], previousRuns: previous, boxes: boxes[band], metric: Metric.self)
          }
        } else {
          assigned = state.assign(
            rows: bands[band], previousRuns: nil, boxes: boxes[band], metric: Metric.self)
        }
        // Every pixel counts, also one no window reached, which keeps its old label.
        return (assigned, state.labelRuns(rows: bands[band]))
      }
      if !results.contains(where: { $0.0 }) { break }
      runs = results.map(\.1)
      if let runs { state.updateCentres(runs: runs, workItems: workItems) }
    }
    return state.labels()
  }
}

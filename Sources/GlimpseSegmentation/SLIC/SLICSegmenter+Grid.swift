#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Implementation notes
// 1. scikit-image treats a 2-D image as a volume of depth 1 and places seeds with
//    `util.regular_grid((1, height, width), n_segments)`: the step is the cube root of
//    volume / n, and since the depth 1 cannot hold it, the depth axis is given step 1 and the
//    other two √(height · width / n); an axis too short for its step is likewise fixed to its
//    length and the rest recomputed. Starts are ⌊step / 2⌋, steps `np.round`ed (half to even).
// 2. `_slic_cython` calls `regular_grid` again with the number of seeds actually placed (which
//    may differ from n_segments: 256 seeds for 250 on a 512×512 image) to size the search
//    windows, while the distance uses the step S of the first call. We keep both.

/// Seeds and step sizes of SLIC's initial grid.
struct SLICSeeds {
  /// Seed rows, seed by seed (row-major over the grid).
  var rows: [Double]
  /// Seed columns.
  var columns: [Double]
  /// S, the largest step of the grid for `n_segments` (the distance's spatial normaliser).
  var step: Double
  /// Window half-extents / 2 along y and x: the steps of the grid for the seed count.
  var windowStepY: Int
  var windowStepX: Int
  /// The seed grid: `rowAxis.start + i · rowAxis.step` for `i < rowCount`, likewise columns.
  var rowAxis: GridAxis
  var columnAxis: GridAxis
  var rowCount: Int
  var columnCount: Int

  /// Number of seeds.
  var count: Int { rows.count }

  /// The seed nearest to pixel (x, y) on the grid (a starting guess for its centre).
  func homeSeed(x: Int, y: Int) -> Int {
    let i = min(max((y - rowAxis.start + rowAxis.step / 2) / rowAxis.step, 0), rowCount - 1)
    let j = min(
      max((x - columnAxis.start + columnAxis.step / 2) / columnAxis.step, 0), columnCount - 1)
    return i * columnCount + j
  }
}

/// One axis of `regular_grid`: the first index and the stride.
struct GridAxis: Equatable {
  var start: Int
  var step: Int
}

extension SLICSegmenter {
  /// scikit-image's `regular_grid(shape, pointCount)`, axis by axis.
  static func regularGrid(shape: [Int], pointCount: Int) -> [GridAxis] {
    let dimensions = shape.count
    var spaceSize = Double(shape.reduce(1, *))
    if spaceSize <= Double(pointCount) {
      return shape.map { _ in GridAxis(start: 0, step: 1) }
    }
    // A stable order, as NumPy's argsort is on so few elements.
    let order = shape.indices.sorted {
      shape[$0] < shape[$1] || (shape[$0] == shape[$1] && $0 < $1)
    }
    let sorted = order.map { Double(shape[$0]) }
    var steps = [Double](
      repeating: pow(spaceSize / Double(pointCount), 1.0 / Double(dimensions)), count: dimensions)
    if zip(sorted, steps).contains(where: { $0 < $1 }) {
      for dimension in 0..<dimensions {
        steps[dimension] = sorted[dimension]
        let remaining = dimensions - dimension - 1
        guard remaining > 0 else { break }
        spaceSize = sorted[(dimension + 1)...].reduce(1, *)
        let step = pow(spaceSize / Double(pointCount), 1.0 / Double(remaining))
        for later in (dimension + 1)..<dimensions { steps[later] = step }
        if !zip(sorted, steps).contains(where: { $0 < $1 }) { break }
      }
    }
    var axes = [GridAxis](repeating: GridAxis(start: 0, step: 1), count: dimensions)
    for (rank, axis) in order.enumerated() {
      axes[axis] = GridAxis(
        start: Int((steps[rank] / 2).rounded(.down)),
        step: Int(steps[rank].rounded(.toNearestOrEven)))
    }
    return axes
  }

  /// The seeds scikit-image's `_get_grid_centroids` places on a `height × width` image.
  static func gridSeeds(height: Int, width: Int, count: Int) -> SLICSeeds {
    let axes = regularGrid(shape: [1, height, width], pointCount: count)
    let ys = Array(stride(from: axes[1].start, to: height, by: axes[1].step))
    let xs = Array(stride(from: axes[2].start, to: width, by: axes[2].step))
    var rows: [Double] = []
    var columns: [Double] = []
    rows.reserveCapacity(ys.count * xs.count)
    columns.reserveCapacity(ys.count * xs.count)
    for y in ys {
      for x in xs {
        rows.append(Double(y))
        columns.append(Double(x))
      }
    }
    let windows = regularGrid(shape: [1, height, width], pointCount: rows.count)
    return SLICSeeds(
      rows: rows, columns: columns,
      step: Double(axes.map(\.step).max() ?? 1),
      windowStepY: windows[1].step, windowStepX: windows[2].step,
      rowAxis: axes[1], columnAxis: axes[2], rowCount: ys.count, columnCount: xs.count)
  }
}

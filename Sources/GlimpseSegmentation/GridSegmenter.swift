import GlimpseCore

/// Splits an image into `cellsPerSide × cellsPerSide` near-equal rectangular cells.
///
/// The cell of pixel (x, y) is `(y · n / height) · n + x · n / width` with integer division,
/// the seed notebook's `split_evenly` (for a 28 × 28 digit, `(row*n//28)*n + col*n//28`), so
/// cell sizes differ by at most one pixel along each axis. When `n` exceeds a side, some cells
/// are empty and the remaining labels are renumbered `0..<count` in the same order.
///
/// The grid ignores the image's content: it is the baseline against which the data-driven
/// segmenters are compared, and the only one whose segments are known before seeing the image.
public struct GridSegmenter: Segmenter {
  /// Cells along each side, `n` of `grid:n`.
  public var cellsPerSide: Int

  /// A grid of `cellsPerSide × cellsPerSide` cells.
  public init(cellsPerSide: Int) {
    self.cellsPerSide = cellsPerSide
  }

  /// `grid:n`.
  public var spec: SegmenterSpec {
    SegmenterSpec(kind: .grid, parameters: [Double(cellsPerSide)])
  }

  /// Segments an image into its grid cells.
  /// - Parameter image: any image; only its size is used.
  /// - Returns: `min(n, height) · min(n, width)` segments, numbered row by row.
  /// - Precondition: `cellsPerSide ≥ 1`.
  public func segment(_ image: Image) -> SegmentMap {
    let n = cellsPerSide
    precondition(n >= 1, "cellsPerSide (\(n)) must be at least 1")
    let width = image.width
    let height = image.height
    let columnCell = (0..<width).map { x in x * n / width }
    var labels = [Int](repeating: 0, count: width * height)
    for y in 0..<height {
      let rowCell = (y * n / height) * n
      for x in 0..<width { labels[y * width + x] = rowCell + columnCell[x] }
    }
    return SegmentMap(width: width, height: height, relabeling: labels)
  }
}

import GlimpseCore

/// A band's colour boxes (per block of a row, the smallest and largest value of each channel;
/// channels beyond the fourth are not boxed, their bounds are 0), per tile of `tileHeight` rows
/// × one block, tile-row-major, laid out so that eight tiles side by side, or the eight rows
/// of a tile, are tested at once.
///
/// Raw storage, read in the innermost loops; written only while it is built.
final class BandBoxes<Scalar: KMeansScalar>: @unchecked Sendable {
  let tileCount: Int
  /// Scalars between the tile planes: `tileCount` and eight lanes past the last tile.
  let tileStride: Int
  /// Per tile, the union of its rows' boxes, as eight planes (`tileStride` apart): the lows of
  /// channels 0…3, then the highs.
  let tiles: UnsafeMutablePointer<Scalar>
  /// Per tile, eight vectors of eight lanes (lane r: row `top + r`, 0 beyond the band): the
  /// lows of channels 0…3, then the highs.
  let rows: UnsafeMutablePointer<Scalar>

  init(tileCount: Int) {
    self.tileCount = tileCount
    tileStride = tileCount + 8
    tiles = .allocate(capacity: tileStride * 8)
    tiles.initialize(repeating: 0, count: tileStride * 8)
    rows = .allocate(capacity: tileCount * 64)
    rows.initialize(repeating: 0, count: tileCount * 64)
  }

  deinit {
    tiles.deallocate()
    rows.deallocate()
  }
}

extension KMeansState {
  /// The colour boxes of a band's tiles (`tileHeight` rows from `rows.lowerBound` × one
  /// block). The image does not change, so they are computed once for all iterations.
  func bandBoxes(rows: Range<Int>) -> BandBoxes<Scalar> {
    let tileCount = (rows.count &+ tileHeight &- 1) / tileHeight &* blocksPerRow
    let boxes = BandBoxes<Scalar>(tileCount: tileCount)
    let tiles = boxes.tiles
    let rowBoxes = boxes.rows
    let stride = boxes.tileStride
    // Each extreme goes straight to its two places (a box assembled lane by lane in a vector
    // went through memory at every lane). Channels beyond the fourth keep 0.
    for y in rows {
      let t = (y &- rows.lowerBound) / tileHeight
      let r = (y &- rows.lowerBound) &- t &* tileHeight
      for b in 0..<blocksPerRow {
        let s = t &* blocksPerRow &+ b
        let start = b &* blockWidth
        let end = Swift.min(start &+ blockWidth, width)
        for c in 0..<Swift.min(channels, 4) {
          let plane = planes + (c &* pixelCount &+ y &* width)
          var low = Scalar.infinity
          var high = -Scalar.infinity
          if end &- start == blockWidth {
            (low, high) = Scalar.extremes(of: plane + start)
          } else {
            for x in start..<end {
              low = Swift.min(low, plane[x])
              high = Swift.max(high, plane[x])
            }
          }
          rowBoxes[s &* 64 &+ c &* 8 &+ r] = low
          rowBoxes[s &* 64 &+ (4 &+ c) &* 8 &+ r] = high
          let tileLow = tiles + (c &* stride &+ s)
          let tileHigh = tiles + ((4 &+ c) &* stride &+ s)
          tileLow.pointee = r == 0 ? low : Swift.min(tileLow.pointee, low)
          tileHigh.pointee = r == 0 ? high : Swift.max(tileHigh.pointee, high)
        }
      }
    }
    return boxes
  }
}

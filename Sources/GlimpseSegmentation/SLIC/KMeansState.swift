import GlimpseCore

// Implementation notes (how `assign` skips work without changing a label)
// 1. The incumbent. Each pixel first takes its previous centre (in the first iteration the
//    nearest seed) when that centre's window still covers it, with the distance D computed
//    exactly as for any other centre. Its best distance starts near its final value, and a
//    re-evaluation of that same centre later gives the same D back and changes nothing.
// 2. Lower bounds. D = spatial + colour with both terms ≥ 0, and IEEE rounding is monotone,
//    so fl(s + c) ≥ fl(s' + c') whenever s ≥ s' and c ≥ c'. For a block of `blockWidth`
//    pixels in a row, the spatial term of its pixel nearest the centre and the colour term
//    of the centre's distance to the block's colour box (per-channel min…max) are computed
//    with the same operations, so they bound every pixel's D from below.
// 3. The skip. A centre skips a block when that bound strictly exceeds the block's largest
//    incumbent distance: no pixel can become closer, nor equally close (which would hand it
//    to a lower-numbered centre). Tiles of `tileHeight` such blocks are tested first with the
//    nearest row, and a block (or tile) whose pixels all have this centre as incumbent is
//    skipped too (see 1). The tests run in vectors of eight lanes, branch-free: eight tiles
//    side by side, then the eight rows of each tile that passed (per tile, its rows' maxima,
//    incumbents and colour boxes lie lane by lane); bit masks say what is left to evaluate.
//    Each lane computes its bound with the same operations as the scalar test would.
// 4. The first iteration. Every centre's colour is 0, so the colour term C of a pixel is the
//    same for all centres and would swamp the incumbent distance; the bound is taken on the
//    spatial term alone, with a margin of 4 ulps of the incumbent's D (`firstBound`).

/// Label storage handed to worker threads that each write their own part.
private struct SendableLabels: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Int32>
  init(_ pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
}

/// Pixels per block of the pruning bound.
let blockWidth = 8
/// Rows per tile of blocks: eight, one lane per row when a tile's rows are tested at once.
let tileHeight = 8

/// Pixels `start..<end` (row-major indices, within one row) all labelled `label` (-1: none).
struct LabelRun {
  var start: Int
  var end: Int
  var label: Int
}

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

/// Per centre, its pixel count, the sums of its pixels' rows and columns, and of their colours.
///
/// Raw storage: the sums are updated run by run, where array accesses checked uniqueness.
final class CentreSums: @unchecked Sendable {
  let counts: UnsafeMutablePointer<Int>
  let rows: UnsafeMutablePointer<Int>
  let columns: UnsafeMutablePointer<Int>
  /// `centreCount × channels`.
  let colours: UnsafeMutablePointer<Double>
  let channels: Int

  init(centreCount: Int, channels: Int) {
    counts = .allocate(capacity: centreCount)
    counts.initialize(repeating: 0, count: centreCount)
    rows = .allocate(capacity: centreCount)
    rows.initialize(repeating: 0, count: centreCount)
    columns = .allocate(capacity: centreCount)
    columns.initialize(repeating: 0, count: centreCount)
    colours = .allocate(capacity: centreCount * channels)
    colours.initialize(repeating: 0, count: centreCount * channels)
    self.channels = channels
  }

  deinit {
    counts.deallocate()
    rows.deallocate()
    columns.deallocate()
    colours.deallocate()
  }

  /// Adds a run's colours to its centre's sums, pixel by pixel in raster order.
  @inline(__always)
  func addColours<Scalar: KMeansScalar>(
    _ run: LabelRun, planes: UnsafePointer<Scalar>, pixelCount: Int
  ) {
    let sum = colours
    if channels == 3 {
      var a = loadSum(sum, run.label)
      for p in run.start..<run.end { a += pixel(planes, pixelCount, p) }
      storeSum(a, sum, run.label)
      return
    }
    for c in 0..<channels {
      let plane = planes + c &* pixelCount
      var a = sum[run.label &* channels &+ c]
      for p in run.start..<run.end { a += Double(plane[p]) }
      sum[run.label &* channels &+ c] = a
    }
  }

  /// Adds two runs of different centres, side by side: each centre's sums take the same
  /// additions in the same order as one run at a time, but the two chains overlap.
  @inline(__always)
  func addColours<Scalar: KMeansScalar>(
    _ first: LabelRun, _ second: LabelRun, planes: UnsafePointer<Scalar>, pixelCount: Int
  ) {
    let sum = colours
    let shared = Swift.min(first.end &- first.start, second.end &- second.start)
    if channels == 3 {
      // A pixel's three channels side by side in one vector: six chains at once.
      var a = loadSum(sum, first.label)
      var b = loadSum(sum, second.label)
      for j in 0..<shared {
        a += pixel(planes, pixelCount, first.start &+ j)
        b += pixel(planes, pixelCount, second.start &+ j)
      }
      for p in (first.start &+ shared)..<first.end { a += pixel(planes, pixelCount, p) }
      for p in (second.start &+ shared)..<second.end { b += pixel(planes, pixelCount, p) }
      storeSum(a, sum, first.label)
      storeSum(b, sum, second.label)
      return
    }
    for c in 0..<channels {
      let plane = planes + c &* pixelCount
      var a = sum[first.label &* channels &+ c]
      var b = sum[second.label &* channels &+ c]
      for j in 0..<shared {
        a += Double(plane[first.start &+ j])
        b += Double(plane[second.start &+ j])
      }
      for p in (first.start &+ shared)..<first.end { a += Double(plane[p]) }
      for p in (second.start &+ shared)..<second.end { b += Double(plane[p]) }
      sum[first.label &* channels &+ c] = a
      sum[second.label &* channels &+ c] = b
    }
  }
}

/// A pixel's three channels in double precision (the fourth lane 0).
@inline(__always)
private func pixel<Scalar: KMeansScalar>(
  _ planes: UnsafePointer<Scalar>, _ pixelCount: Int, _ p: Int
) -> SIMD4<Double> {
  SIMD4(
    Double(planes[p]), Double(planes[pixelCount &+ p]), Double(planes[2 &* pixelCount &+ p]), 0)
}

/// Centre `label`'s three colour sums as a vector.
@inline(__always)
private func loadSum(_ sum: UnsafeMutablePointer<Double>, _ label: Int) -> SIMD4<Double> {
  SIMD4(sum[3 &* label], sum[3 &* label &+ 1], sum[3 &* label &+ 2], 0)
}

@inline(__always)
private func storeSum(_ value: SIMD4<Double>, _ sum: UnsafeMutablePointer<Double>, _ label: Int) {
  sum[3 &* label] = value[0]
  sum[3 &* label &+ 1] = value[1]
  sum[3 &* label &+ 2] = value[2]
}

/// A band's runs of equal labels, in raster order, and the range of their labels.
struct BandRuns: Sendable {
  var runs: [LabelRun]
  var lowest: Int
  var highest: Int
}

/// A centre's search window, `[yMin, yMax) × [xMin, xMax)`; empty for a dead centre.
struct Window {
  var yMin = 0
  var yMax = 0
  var xMin = 0
  var xMax = 0
}

/// The k-means state: centres, and per pixel its owner and best distance.
///
/// Buffers are raw so that the parallel bands can write their own rows without copies; each
/// band touches only its rows of the per-pixel buffers and reads the centres.
final class KMeansState<Scalar: KMeansScalar>: @unchecked Sendable {
  let width: Int
  let height: Int
  let channels: Int
  let pixelCount: Int
  let centreCount: Int
  let spatialWeight: Scalar
  let colourWeight: Scalar
  let blocksPerRow: Int
  /// Feature planes in `Scalar`, `channels × pixelCount` (borrowed for the state's
  /// lifetime).
  let planes: UnsafePointer<Scalar>
  /// Centre rows and columns, means in double precision (windows are computed from them as
  /// scikit-image computes its own); distances use them converted to `Scalar`.
  let centreY: UnsafeMutablePointer<Double>
  let centreX: UnsafeMutablePointer<Double>
  /// Centre colours (`centreCount × channels`), double-precision means converted to `Scalar`.
  let centreColour: UnsafeMutablePointer<Scalar>
  let alive: UnsafeMutablePointer<Bool>
  let windows: UnsafeMutablePointer<Window>
  /// Each pixel's centre, as a `Scalar` so that it is selected with the same vector mask as
  /// `best` (exact below 2²⁴ centres in `Float`); -1 before any window covered it.
  let owner: UnsafeMutablePointer<Scalar>
  /// Each pixel's best distance in the current iteration.
  let best: UnsafeMutablePointer<Scalar>
  /// Each pixel's pruning bound in the first iteration (see `firstBound`).
  let bound: UnsafeMutablePointer<Scalar>
  /// The seed nearest to each pixel, its first incumbent.
  let home: UnsafeMutablePointer<Scalar>

  init(features: FeaturePlanes, planes: UnsafePointer<Scalar>, seeds: SLICSeeds) {
    precondition(seeds.count < 1 << 24, "\(seeds.count) seeds: labels are held as scalars")
    width = features.width
    height = features.height
    channels = features.channels
    pixelCount = features.pixelCount
    centreCount = seeds.count
    spatialWeight = Scalar.converting(1.0 / (seeds.step * seeds.step))
    colourWeight = Scalar.converting(features.colourWeight)
    blocksPerRow = (width + blockWidth - 1) / blockWidth

    self.planes = planes
    centreY = .allocate(capacity: centreCount)
    centreY.initialize(from: seeds.rows, count: centreCount)
    centreX = .allocate(capacity: centreCount)
    centreX.initialize(from: seeds.columns, count: centreCount)
    centreColour = .allocate(capacity: centreCount * channels)
    centreColour.initialize(repeating: 0, count: centreCount * channels)
    alive = .allocate(capacity: centreCount)
    alive.initialize(repeating: true, count: centreCount)
    windows = .allocate(capacity: centreCount)
    windows.initialize(repeating: Window(), count: centreCount)
    owner = .allocate(capacity: pixelCount)
    owner.initialize(repeating: -1, count: pixelCount)
    best = .allocate(capacity: pixelCount)
    best.initialize(repeating: .infinity, count: pixelCount)
    bound = .allocate(capacity: pixelCount)
    bound.initialize(repeating: .infinity, count: pixelCount)
    home = .allocate(capacity: pixelCount)
    // Home seeds are per row; rows are split between threads. Each row is written by one item.
    let homes = home
    let (width, height, pixelCount) = (width, height, pixelCount)
    let rowSeeds = (0..<height).map { seeds.homeSeed(x: 0, y: $0) - seeds.homeSeed(x: 0, y: 0) }
    let columnSeeds = (0..<width).map { seeds.homeSeed(x: $0, y: 0) }
    let chunks = contiguousChunks(
      of: height, parts: pixelCount >= 1 << 14 ? Parallelism.threadCount * 4 : 1)
    _ = parallelMap(chunks.count) { index in
      for y in chunks[index] {
        for x in 0..<width {
          (homes + y * width + x).initialize(to: Scalar.converting(rowSeeds[y] + columnSeeds[x]))
        }
      }
      return 0
    }
  }

  deinit {
    for pointer in [centreColour, owner, best, bound, home] {
      pointer.deallocate()
    }
    centreY.deallocate()
    centreX.deallocate()
    alive.deallocate()
    windows.deallocate()
  }

  /// The labels as integers.
  func labels() -> [Int32] {
    // On all cores for large images (each label converted on its own): on the photo this
    // serial pass was a hundredth of the segmentation.
    let owner = owner
    return [Int32](unsafeUninitializedCapacity: pixelCount) { buffer, initialized in
      guard let target = buffer.baseAddress else { return }
      let output = SendableLabels(target)
      forEachChunk(of: pixelCount) { pixels in
        for p in pixels {
          (output.pointer + p).initialize(to: Int32(truncatingIfNeeded: owner[p].integer))
        }
      }
      initialized = pixelCount
    }
  }

  /// Windows as `_slic_cython` computes them: `<Py_ssize_t>max(c - 2 * step, 0)` and
  /// `<Py_ssize_t>min(c + 2 * step + 1, size)`, in floating point, then truncated.
  func computeWindows(stepY: Int, stepX: Int) {
    let stepY = Double(stepY)
    let stepX = Double(stepX)
    for k in 0..<centreCount {
      guard alive[k] else {
        windows[k] = Window()
        continue
      }
      windows[k] = Window(
        yMin: Int(max(centreY[k] - 2 * stepY, 0)),
        yMax: Int(min(centreY[k] + 2 * stepY + 1, Double(height))),
        xMin: Int(max(centreX[k] - 2 * stepX, 0)),
        xMax: Int(min(centreX[k] + 2 * stepX + 1, Double(width))))
    }
  }

  /// Means over each centre's pixels, from the runs of equal labels the bands found.
  ///
  /// Counts and coordinate sums are integers, exact in any order. Colour sums are accumulated
  /// pixel by pixel in raster order, as scikit-image does (so they round as its do); along a
  /// run the running sum stays in a register.
  /// - Parameter workItems: How many parts the sums are split into (by default one per
  ///   thread); each centre's sums are made by one part in the same order, so the means do not
  ///   depend on it (tests compare 1 and 2).
  func updateCentres(runs bandRuns: [BandRuns], workItems: Int? = nil) {
    // Small images stay on one thread: waking others costs more than the sums.
    let items =
      workItems.map { Swift.max(1, Swift.min($0, centreCount)) }
      ?? (pixelCount >= 1 << 14 ? Swift.min(Parallelism.threadCount, centreCount) : 1)
    let (width, channels, count, planes, pixelCount) = (
      width, channels, centreCount, planes, pixelCount
    )
    // Item i takes the centres `i · count / items ..< (i + 1) · count / items`: neighbours, whose
    // runs come in long stretches in a few bands, so each item reads only the bands that hold
    // its labels, and its test of the label is predictable (a centre's sums do not depend on
    // which item makes them).
    let partial = parallelMap(items) { item in
      let low = item &* count / items
      let high = (item &+ 1) &* count / items
      let sums = CentreSums(centreCount: count, channels: channels)
      var pending = LabelRun(start: 0, end: 0, label: -1)
      var rowStart = 0
      var rowEnd = 0
      var y = 0
      for band in bandRuns where band.highest >= low && band.lowest < high {
        for run in band.runs where run.label >= low && run.label < high {
          // Runs come in raster order and never cross a row: one division per row.
          if run.start >= rowEnd {
            y = run.start / width
            rowStart = y &* width
            rowEnd = rowStart &+ width
          }
          let k = run.label
          let n = run.end &- run.start
          let x = run.start &- rowStart
          sums.counts[k] &+= n
          sums.rows[k] &+= y &* n
          sums.columns[k] &+= (2 &* x &+ n &- 1) &* n / 2
          // Two consecutive runs of different centres are summed side by side, so the
          // processor overlaps their (otherwise serial) chains of additions.
          if pending.label < 0 {
            pending = run
          } else if pending.label != run.label {
            sums.addColours(pending, run, planes: planes, pixelCount: pixelCount)
            pending.label = -1
          } else {
            sums.addColours(pending, planes: planes, pixelCount: pixelCount)
            pending = run
          }
        }
      }
      if pending.label >= 0 { sums.addColours(pending, planes: planes, pixelCount: pixelCount) }
      return sums
    }
    for item in 0..<items {
      let sums = partial[item]
      for k in (item &* centreCount / items)..<((item &+ 1) &* centreCount / items) {
        // An empty centre divides 0 by 0 in scikit-image and turns NaN; `alive` says so here.
        let n = Double(sums.counts[k])
        alive[k] = sums.counts[k] > 0
        centreY[k] = Double(sums.rows[k]) / n
        centreX[k] = Double(sums.columns[k]) / n
        for c in 0..<channels {
          centreColour[k &* channels &+ c] = Scalar.converting(sums.colours[k &* channels &+ c] / n)
        }
      }
    }
  }

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

  /// The runs of equal labels along the rows of a band, in raster order.
  func labelRuns(rows: Range<Int>) -> BandRuns {
    var runs: [LabelRun] = []
    runs.reserveCapacity(rows.count * 16)
    // A run ends where the label changes; the changes are found eight pixels at a time, as
    // bits, so that the loops branch per run and per eight pixels, not per pixel.
    for y in rows {
      let row = y &* width
      var start = 0
      var x = 1
      while x &+ 8 <= width {
        var changes = Scalar.changes(owner + (row &+ x))
        while changes != 0 {
          let end = x &+ changes.trailingZeroBitCount
          runs.append(
            LabelRun(start: row &+ start, end: row &+ end, label: owner[row &+ start].integer))
          start = end
          changes &= changes &- 1
        }
        x &+= 8
      }
      while x < width {
        if owner[row &+ x] != owner[row &+ x &- 1] {
          runs.append(
            LabelRun(start: row &+ start, end: row &+ x, label: owner[row &+ start].integer))
          start = x
        }
        x &+= 1
      }
      runs.append(
        LabelRun(start: row &+ start, end: row &+ width, label: owner[row &+ start].integer))
    }
    var lowest = Int.max
    var highest = Int.min
    for run in runs {
      lowest = Swift.min(lowest, run.label)
      highest = Swift.max(highest, run.label)
    }
    return BandRuns(runs: runs, lowest: lowest, highest: highest)
  }

  /// Offers pixel p to centre `label` at distance d under scikit-image's rule.
  @inline(__always)
  private func offer(_ d: Scalar, label: Scalar, pixel p: Int) {
    let incumbent = best[p]
    if d < incumbent || (d == incumbent && label < owner[p]) {
      best[p] = d
      owner[p] = label
    }
  }

  /// The distances of pixels `xStart..<xEnd` of row `y` to centre k, written into `best`; up
  /// to three pixels after `xEnd` in the row may be overwritten too.
  @inline(__always)
  private func incumbentDistances<Metric: ColourMetric>(
    row y: Int, from xStart: Int, to xEnd: Int, centre k: Int, metric: Metric.Type
  ) where Metric.Scalar == Scalar {
    let dy = Scalar.converting(centreY[k]) - Scalar.converting(y)
    let dyy = dy * dy
    let x0 = Scalar.converting(centreX[k])
    let colour = Metric.centre(centreColour + k &* channels)
    let context = MetricContext<Scalar>(pixelCount: pixelCount, channels: channels, weight: colourWeight)
    let weight = SIMD4<Scalar>(repeating: spatialWeight)
    var p = y &* width &+ xStart
    let end = y &* width &+ xEnd
    var columns = SIMD4<Scalar>(repeating: Scalar.converting(xStart)) + laneOffsets()
    while p &+ laneCount <= end {
      let dx = SIMD4<Scalar>(repeating: x0) - columns
      let d =
        (SIMD4<Scalar>(repeating: dyy) + dx * dx) * weight
        + Metric.squaredLanes(planes: planes, pixel: p, centre: colour, context: context)
      storeLanes(d, best + p)
      columns += SIMD4<Scalar>(repeating: Scalar.converting(laneCount))
      p &+= laneCount
    }
    guard p < end else { return }
    // The last one to three pixels as one more whole vector (the scalar loop's varying length
    // cost more than the work) when it stays within the row: its other lanes are pixels of the
    // runs after this one, which `assign` writes afterwards anyway.
    if p &+ laneCount <= y &* width &+ width {
      let dx = SIMD4<Scalar>(repeating: x0) - columns
      let d =
        (SIMD4<Scalar>(repeating: dyy) + dx * dx) * weight
        + Metric.squaredLanes(planes: planes, pixel: p, centre: colour, context: context)
      storeLanes(d, best + p)
      return
    }
    var column = columns[0]
    while p < end {
      let dx = x0 - column
      best[p] =
        (dyy + dx * dx) * spatialWeight
        + Metric.squared(planes: planes, pixel: p, centre: colour, context: context)
      column += 1
      p &+= 1
    }
  }

  /// The pruning bound of pixel (x, y) in the first iteration, on the spatial term alone.
  ///
  /// Every centre starts with colour 0, so the colour term C is the same for all of them and
  /// the incumbent's distance swamps the spatial differences that decide. But a centre whose
  /// spatial term exceeds the incumbent's s by 4 ulps of the incumbent's distance b = fl(s + C)
  /// is strictly farther: s' + C > s + C + 3.5 ulp ≥ b + 3 ulp, and rounding keeps it above b.
  @inline(__always)
  private func firstBound(row y: Int, column x: Int) -> Scalar {
    let p = y &* width &+ x
    let incumbent = best[p]
    guard incumbent.isFinite else { return .infinity }
    let k = home[p].integer
    let dy = Scalar.converting(centreY[k]) - Scalar.converting(y)
    let dx = Scalar.converting(centreX[k]) - Scalar.converting(x)
    return (dy * dy + dx * dx) * spatialWeight + 4 * incumbent.ulp
  }

  /// Assigns the pixels of `rows` to their nearest centre; returns whether any window met
  /// them.
  /// - Parameter boxes: `bandBoxes(rows:)` of these rows.
  func assign<Metric: ColourMetric>(
    rows: Range<Int>, previousRuns: UnsafeBufferPointer<LabelRun>?,
    boxes: BandBoxes<Scalar>, metric: Metric.Type
  ) -> Bool where Metric.Scalar == Scalar {
    let tileRows = (rows.count &+ tileHeight &- 1) / tileHeight
    let tileCount = tileRows &* blocksPerRow
    precondition(boxes.tileCount == tileCount, "boxes of other rows")
    let firstIteration = previousRuns == nil
    // Per tile, across its rows (lane r: row top + r), the largest incumbent distance of each
    // row's block and its incumbent centre when all its pixels share one, else -1. Rows
    // beyond the band keep -∞, which no bound passes.
    let rowMaxima = UnsafeMutablePointer<Scalar>.allocate(capacity: tileCount &* tileHeight)
    rowMaxima.initialize(repeating: -.infinity, count: tileCount &* tileHeight)
    let rowOwners = UnsafeMutablePointer<Scalar>.allocate(capacity: tileCount &* tileHeight)
    rowOwners.initialize(repeating: -1, count: tileCount &* tileHeight)
    // Eight lanes past the last tile and block, read with the last ones and masked out.
    let tileMaximum = UnsafeMutablePointer<Scalar>.allocate(capacity: tileCount &+ 8)
    tileMaximum.initialize(repeating: -.infinity, count: tileCount &+ 8)
    let tileOwner = UnsafeMutablePointer<Scalar>.allocate(capacity: tileCount &+ 8)
    tileOwner.initialize(repeating: -1, count: tileCount &+ 8)
    let spans = UnsafeMutablePointer<Scalar>.allocate(capacity: blocksPerRow &+ 8)
    spans.initialize(repeating: 0, count: blocksPerRow &+ 8)
    defer {
      rowMaxima.deallocate()
      rowOwners.deallocate()
      tileMaximum.deallocate()
      tileOwner.deallocate()
      spans.deallocate()
    }
    // Incumbents, run by run of equal labels along each row (the runs the previous update
    // used; at first, runs of nearest seeds): the previous centre where its window covers the
    // pixel; elsewhere none (∞), and the pixel keeps its old label unless a window covers it.
    var runIndex = 0
    for y in rows {
      let row = y &* width
      var x = 0
      while x < width {
        let k: Int
        let end: Int
        if let previousRuns {
          let run = previousRuns[runIndex]
          runIndex &+= 1
          k = run.label
          end = run.end &- row
        } else {
          let guess = home[row &+ x]
          var scan = x &+ 1
          while scan < width && home[row &+ scan] == guess { scan &+= 1 }
          k = guess.integer
          end = scan
        }
        var coveredStart = end
        var coveredEnd = end
        if k >= 0 {
          let window = windows[k]
          if y >= window.yMin && y < window.yMax {
            coveredStart = Swift.min(Swift.max(x, window.xMin), end)
            coveredEnd = Swift.max(Swift.min(end, window.xMax), coveredStart)
          }
        }
        for i in x..<coveredStart { best[row &+ i] = .infinity }
        if coveredStart < coveredEnd {
          incumbentDistances(
            row: y, from: coveredStart, to: coveredEnd, centre: k, metric: Metric.self)
          // Later, `owner` already holds the guess.
          if firstIteration {
            for i in coveredStart..<coveredEnd { owner[row &+ i] = Scalar.converting(k) }
          }
        }
        for i in coveredEnd..<end { best[row &+ i] = .infinity }
        x = end
      }
      let tile = (y &- rows.lowerBound) / tileHeight
      let lane = (y &- rows.lowerBound) &- tile &* tileHeight
      let maxima = rowMaxima + (tile &* blocksPerRow &* tileHeight &+ lane)
      let owners = rowOwners + (tile &* blocksPerRow &* tileHeight &+ lane)
      if firstIteration {
        for x in 0..<width { bound[row &+ x] = firstBound(row: y, column: x) }
      }
      let bounds = firstIteration ? bound : best
      for b in 0..<blocksPerRow {
        let start = b &* blockWidth
        let end = Swift.min(start &+ blockWidth, width)
        let common = owner[row &+ start]
        let slot = b &* tileHeight
        if end &- start == blockWidth {
          // Whole blocks, a vector at a time: the largest bound, and whether every pixel
          // has the first one's incumbent (an uncovered pixel's ∞ bound makes that moot).
          let (largest, same) = Scalar.blockSummary(
            bounds: bounds + (row &+ start), owners: owner + (row &+ start), common: common)
          maxima[slot] = largest
          owners[slot] = same && largest.isFinite ? common : -1
        } else {
          var maximum = -Scalar.infinity
          var same = true
          for i in start..<end {
            maximum = Swift.max(maximum, bounds[row &+ i])
            same = same && owner[row &+ i] == common
          }
          maxima[slot] = maximum
          owners[slot] = same && maximum.isFinite ? common : -1
        }
      }
    }

    // Tiles of `tileHeight` rows × one block, within the band: the largest bound and the
    // common incumbent of their blocks, to skip 8 rows of a block with one test.
    for t in 0..<tileRows {
      let count = Swift.min(tileHeight, rows.count &- t &* tileHeight)
      for b in 0..<blocksPerRow {
        let s = t &* blocksPerRow &+ b
        let maxima = rowMaxima + s &* tileHeight
        let owners = rowOwners + s &* tileHeight
        var maximum = maxima[0]
        var shared = true
        for r in 1..<count {
          maximum = Swift.max(maximum, maxima[r])
          shared = shared && owners[r] == owners[0]
        }
        tileMaximum[s] = maximum
        tileOwner[s] = shared ? owners[0] : -1
      }
    }

    var assigned = false
    let context = MetricContext<Scalar>(pixelCount: pixelCount, channels: channels, weight: colourWeight)
    let weight = SIMD4<Scalar>(repeating: spatialWeight)
    let rowWeight = SIMD8<Scalar>(repeating: spatialWeight)
    let rowOffsets = SIMD8<Scalar>(0, 1, 2, 3, 4, 5, 6, 7)
    for k in 0..<centreCount {
      let window = windows[k]
      let yMin = Swift.max(window.yMin, rows.lowerBound)
      let yMax = Swift.min(window.yMax, rows.upperBound)
      guard yMin < yMax && window.xMin < window.xMax else { continue }
      assigned = true
      let y0 = Scalar.converting(centreY[k])
      let x0 = Scalar.converting(centreX[k])
      let x0Lanes = SIMD4<Scalar>(repeating: x0)
      let colour = Metric.centre(centreColour + k &* channels)
      let label = Scalar.converting(k)
      let labelLanes = SIMD4<Scalar>(repeating: label)
      let labelRows = SIMD8<Scalar>(repeating: label)
      let firstBlock = window.xMin / blockWidth
      let lastBlock = (window.xMax &- 1) / blockWidth
      // Each block's squared column distance of its pixel nearest the centre (within the
      // window), the same for every row. Distances are computed as in the loop below
      // (c − x, squared), and rounding is monotone, so these are lower bounds of its terms.
      let blockCount = lastBlock &- firstBlock &+ 1
      for i in 0..<blockCount {
        let b = firstBlock &+ i
        let xStart = Swift.max(b &* blockWidth, window.xMin)
        let xEnd = Swift.min((b &+ 1) &* blockWidth, window.xMax)
        let first = Scalar.converting(xStart)
        let last = Scalar.converting(xEnd &- 1)
        let nearest = x0 < first ? x0 - first : (x0 > last ? x0 - last : 0)
        spans[i] = nearest * nearest
      }
      let firstTile = (yMin &- rows.lowerBound) / tileHeight
      let lastTile = (yMax &- 1 &- rows.lowerBound) / tileHeight
      for t in firstTile...lastTile {
        let tileTop = rows.lowerBound &+ t &* tileHeight
        let top = Swift.max(tileTop, yMin)
        let bottom = Swift.min(tileTop &+ tileHeight, yMax)
        let firstRow = Scalar.converting(top)
        let lastRow = Scalar.converting(bottom &- 1)
        let nearestRow = y0 < firstRow ? y0 - firstRow : (y0 > lastRow ? y0 - lastRow : 0)
        let nearestRowSquared = nearestRow * nearestRow
        // The tile's rows inside the window, and their squared row distances, computed as in
        // the loop below (integers are exact in `Scalar`).
        let windowRows = (1 &<< (bottom &- tileTop)) &- (1 &<< (top &- tileTop))
        let dyRows =
          SIMD8<Scalar>(repeating: y0) - (SIMD8(repeating: Scalar.converting(tileTop)) + rowOffsets)
        let dyyRows = dyRows * dyRows
        let tileSlot = t &* blocksPerRow &+ firstBlock
        // Eight tiles side by side at once: a tile whose pixels are all farther than their
        // incumbents (in space, and after the first iteration in space and colour), or all
        // have this centre as incumbent, holds nothing that can change (see the row tests).
        var chunk = 0
        while chunk < blockCount {
          let spatial =
            (SIMD8(repeating: nearestRowSquared) + loadEight(spans + chunk)) * rowWeight
          let tileBounds =
            firstIteration
            ? spatial
            : spatial
              + Metric.lowerBounds(
                boxes: boxes.tiles + (tileSlot &+ chunk), stride: boxes.tileStride,
                centre: colour, context: context)
          var tiles =
            Scalar.rowsToEvaluate(
              bounds: tileBounds, maxima: loadEight(tileMaximum + (tileSlot &+ chunk)),
              owners: loadEight(tileOwner + (tileSlot &+ chunk)), label: labelRows)
            & ((1 &<< Swift.min(blockCount &- chunk, 8)) &- 1)
          let chunkStart = chunk
          chunk &+= 8
          while tiles != 0 {
            let i = chunkStart &+ tiles.trailingZeroBitCount
            tiles &= tiles &- 1
            let s = tileSlot &+ i
            let b = firstBlock &+ i
            let xStart = Swift.max(b &* blockWidth, window.xMin)
            let xEnd = Swift.min((b &+ 1) &* blockWidth, window.xMax)
            let nearestSquared = spans[i]
            // The block in each row of the tile, all rows at once: skipped when its bound
            // exceeds its largest incumbent distance, or when every pixel has this centre as
            // incumbent (re-evaluating gives each pixel its own incumbent distance back, which
            // changes nothing; others may have taken pixels meanwhile, by being closer, or as
            // close and lower). After the first iteration the maxima bound whole distances, so
            // the colour term's lower bound is added (in the first they bound spatial terms
            // alone); it is ≥ 0, so the sum is no smaller than the spatial bound.
            let spatialBounds = (dyyRows + SIMD8(repeating: nearestSquared)) * rowWeight
            let rowBounds =
              firstIteration
              ? spatialBounds
              : spatialBounds
                + Metric.lowerBounds(
                  boxes: boxes.rows + s &* 64, stride: 8, centre: colour, context: context)
            var evaluate =
              Scalar.rowsToEvaluate(
                bounds: rowBounds,
                maxima: loadEight(rowMaxima + s &* tileHeight),
                owners: loadEight(rowOwners + s &* tileHeight), label: labelRows)
              & windowRows
            while evaluate != 0 {
              let y = tileTop &+ evaluate.trailingZeroBitCount
              evaluate &= evaluate &- 1
              let dy = y0 - Scalar.converting(y)
              let dyy = dy * dy
              let dyyLanes = SIMD4<Scalar>(repeating: dyy)
              let row = y &* width
              var p = row &+ xStart
              let end = row &+ xEnd
              var columns = SIMD4<Scalar>(repeating: Scalar.converting(xStart)) + laneOffsets()
              while p &+ laneCount <= end {
                let dx = x0Lanes - columns
                let spatial = (dyyLanes + dx * dx) * weight
                let d =
                  spatial
                  + Metric.squaredLanes(planes: planes, pixel: p, centre: colour, context: context)
                Scalar.offer(d, label: labelLanes, best: best + p, owner: owner + p)
                columns += SIMD4<Scalar>(repeating: Scalar.converting(laneCount))
                p &+= laneCount
              }
              var column = columns[0]
              while p < end {
                let dx = x0 - column
                let d =
                  (dyy + dx * dx) * spatialWeight
                  + Metric.squared(planes: planes, pixel: p, centre: colour, context: context)
                offer(d, label: label, pixel: p)
                column += 1
                p &+= 1
              }
            }
          }
        }
      }
    }
    return assigned
  }
}

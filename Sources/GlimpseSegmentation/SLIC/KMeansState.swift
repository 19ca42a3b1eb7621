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
//    skipped too (see 1).
// 4. The first iteration. Every centre's colour is 0, so the colour term C of a pixel is the
//    same for all centres and would swamp the incumbent distance; the bound is taken on the
//    spatial term alone, with a margin of 4 ulps of the incumbent's D (`firstBound`).

/// Pixels per block of the pruning bound.
let blockWidth = 8
/// Rows per tile of blocks.
let tileHeight = 8

/// Pixels `start..<end` (row-major indices, within one row) all labelled `label` (-1: none).
struct LabelRun {
  var start: Int
  var end: Int
  var label: Int
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
  /// The largest incumbent distance of each block of `blockWidth` pixels in a row.
  let blockMaximum: UnsafeMutablePointer<Scalar>
  /// The incumbent centre of each block when all its pixels share one, else -1.
  let blockOwner: UnsafeMutablePointer<Scalar>
  /// The seed nearest to each pixel, its first incumbent.
  let home: UnsafeMutablePointer<Scalar>
  /// Per block, the smallest and largest value of each channel: `[lo_0…lo_3, hi_0…hi_3]`
  /// (channels beyond the fourth are not boxed; unused lanes are 0).
  let colourBoxes: UnsafeMutablePointer<SIMD8<Scalar>>

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
    blockMaximum = .allocate(capacity: blocksPerRow * height)
    blockMaximum.initialize(repeating: .infinity, count: blocksPerRow * height)
    blockOwner = .allocate(capacity: blocksPerRow * height)
    blockOwner.initialize(repeating: -1, count: blocksPerRow * height)
    colourBoxes = .allocate(capacity: blocksPerRow * height)
    home = .allocate(capacity: pixelCount)
    // Boxes and home seeds are per row; rows are split between threads (on a photo this was a
    // twentieth of the whole segmentation on one core). Each row is written by one item.
    let boxes = colourBoxes
    let homes = home
    let (width, height, channels, pixelCount, blocksPerRow) = (
      width, height, channels, pixelCount, blocksPerRow
    )
    let rowSeeds = (0..<height).map { seeds.homeSeed(x: 0, y: $0) - seeds.homeSeed(x: 0, y: 0) }
    let columnSeeds = (0..<width).map { seeds.homeSeed(x: $0, y: 0) }
    let chunks = contiguousChunks(
      of: height, parts: pixelCount >= 1 << 14 ? Parallelism.threadCount * 4 : 1)
    _ = parallelMap(chunks.count) { index in
      for y in chunks[index] {
        for b in 0..<blocksPerRow {
          var box = SIMD8<Scalar>()
          for c in 0..<min(channels, 4) {
            let plane = planes + c * pixelCount + y * width
            var low = Scalar.infinity
            var high = -Scalar.infinity
            for x in (b * blockWidth)..<min((b + 1) * blockWidth, width) {
              low = min(low, plane[x])
              high = max(high, plane[x])
            }
            box[c] = low
            box[4 + c] = high
          }
          (boxes + y * blocksPerRow + b).initialize(to: box)
        }
        for x in 0..<width {
          (homes + y * width + x).initialize(to: Scalar.converting(rowSeeds[y] + columnSeeds[x]))
        }
      }
      return 0
    }
  }

  deinit {
    for pointer in [centreColour, owner, best, bound, blockMaximum, blockOwner, home] {
      pointer.deallocate()
    }
    centreY.deallocate()
    centreX.deallocate()
    alive.deallocate()
    windows.deallocate()
    colourBoxes.deallocate()
  }

  /// The labels as integers.
  func labels() -> [Int32] {
    (0..<pixelCount).map { Int32(truncatingIfNeeded: owner[$0].integer) }
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
  /// - Parameter workItems: How many parts the colour sums are split into (by default one per
  ///   thread); each centre's sums are made by one part in the same order, so the means do not
  ///   depend on it (tests compare 1 and 2).
  func updateCentres(runs bandRuns: [[LabelRun]], workItems: Int? = nil) {
    var counts = [Int](repeating: 0, count: centreCount)
    var sumY = [Int](repeating: 0, count: centreCount)
    var sumX = [Int](repeating: 0, count: centreCount)
    for runs in bandRuns {
      for run in runs where run.label >= 0 {
        let k = run.label
        let n = run.end &- run.start
        let y = run.start / width
        let x = run.start &- y &* width
        counts[k] &+= n
        sumY[k] &+= y &* n
        sumX[k] &+= (2 &* x &+ n &- 1) &* n / 2
      }
    }
    // Work items take the centres k ≡ item (mod items); a centre's sums do not depend on
    // which item computes them. Two consecutive runs of different centres are summed side by
    // side, so the processor overlaps their (otherwise serial) chains of additions.
    // Small images stay on one thread: waking others costs more than the sums.
    let items =
      workItems.map { Swift.max(1, Swift.min($0, centreCount)) }
      ?? (pixelCount >= 1 << 14 ? Swift.min(Parallelism.threadCount, centreCount) : 1)
    let partial = parallelMap(items) { item in
      var sums = [Double](repeating: 0, count: centreCount &* channels)
      var mine: [LabelRun] = []
      for runs in bandRuns {
        for run in runs where run.label >= 0 && run.label % items == item { mine.append(run) }
      }
      sums.withUnsafeMutableBufferPointer { buffer in
        guard let sum = buffer.baseAddress else { return }
        if channels == 3 {
          Self.sumThreeChannels(runs: mine, planes: planes, pixelCount: pixelCount, into: sum)
          return
        }
        var i = 0
        while i < mine.count {
          let first = mine[i]
          if i &+ 1 < mine.count && mine[i &+ 1].label != first.label {
            let second = mine[i &+ 1]
            for c in 0..<channels {
              let plane = planes + c &* pixelCount
              var a = sum[first.label &* channels &+ c]
              var b = sum[second.label &* channels &+ c]
              let shared = Swift.min(first.end &- first.start, second.end &- second.start)
              for j in 0..<shared {
                a += Double(plane[first.start &+ j])
                b += Double(plane[second.start &+ j])
              }
              for p in (first.start &+ shared)..<first.end { a += Double(plane[p]) }
              for p in (second.start &+ shared)..<second.end { b += Double(plane[p]) }
              sum[first.label &* channels &+ c] = a
              sum[second.label &* channels &+ c] = b
            }
            i &+= 2
          } else {
            for c in 0..<channels {
              let plane = planes + c &* pixelCount
              var a = sum[first.label &* channels &+ c]
              for p in first.start..<first.end { a += Double(plane[p]) }
              sum[first.label &* channels &+ c] = a
            }
            i &+= 1
          }
        }
      }
      return sums
    }
    for k in 0..<centreCount {
      // An empty centre divides 0 by 0 in scikit-image and turns NaN; `alive` says so here.
      let n = Double(counts[k])
      alive[k] = counts[k] > 0
      centreY[k] = Double(sumY[k]) / n
      centreX[k] = Double(sumX[k]) / n
      let sums = partial[k % items]
      for c in 0..<channels {
        centreColour[k &* channels &+ c] = Scalar.converting(sums[k &* channels &+ c] / n)
      }
    }
  }

  /// Adds each run's pixels to its centre's three colour sums (`sum[3k ..< 3k + 3]`), run after
  /// run, each channel pixel by pixel in raster order.
  ///
  /// The same additions as the general loop in `updateCentres`, in the same order per channel,
  /// so the same sums; but a run's three channels are summed side by side in one vector, and
  /// two consecutive runs of different centres too, so six chains of dependent additions
  /// overlap instead of two (the sums were a fifth of the k-means, bound by add latency).
  private static func sumThreeChannels(
    runs: [LabelRun], planes: UnsafePointer<Scalar>, pixelCount: Int,
    into sum: UnsafeMutablePointer<Double>
  ) {
    let red = planes
    let green = planes + pixelCount
    let blue = planes + 2 &* pixelCount
    @inline(__always)
    func pixel(_ p: Int) -> SIMD4<Double> {
      SIMD4(Double(red[p]), Double(green[p]), Double(blue[p]), 0)
    }
    @inline(__always)
    func load(_ label: Int) -> SIMD4<Double> {
      SIMD4(sum[3 &* label], sum[3 &* label &+ 1], sum[3 &* label &+ 2], 0)
    }
    @inline(__always)
    func store(_ value: SIMD4<Double>, _ label: Int) {
      sum[3 &* label] = value[0]
      sum[3 &* label &+ 1] = value[1]
      sum[3 &* label &+ 2] = value[2]
    }
    var i = 0
    while i < runs.count {
      let first = runs[i]
      var a = load(first.label)
      if i &+ 1 < runs.count && runs[i &+ 1].label != first.label {
        let second = runs[i &+ 1]
        var b = load(second.label)
        let shared = Swift.min(first.end &- first.start, second.end &- second.start)
        for j in 0..<shared {
          a += pixel(first.start &+ j)
          b += pixel(second.start &+ j)
        }
        for p in (first.start &+ shared)..<first.end { a += pixel(p) }
        for p in (second.start &+ shared)..<second.end { b += pixel(p) }
        store(a, first.label)
        store(b, second.label)
        i &+= 2
      } else {
        for p in first.start..<first.end { a += pixel(p) }
        store(a, first.label)
        i &+= 1
      }
    }
  }

  /// Per tile of `tileHeight` rows (from `rows.lowerBound`) × one block, the union of its
  /// blocks' colour boxes, tile-row-major. The image does not change, so a band's tiles are
  /// boxed once for all iterations; with them a tile takes the colour bound as a block does,
  /// which on the photo spares a third of the tiles that pass the spatial test their row
  /// tests.
  func tileColourBoxes(rows: Range<Int>) -> [SIMD8<Scalar>] {
    let tileRows = (rows.count &+ tileHeight &- 1) / tileHeight
    var boxes = [SIMD8<Scalar>](repeating: SIMD8(), count: tileRows &* blocksPerRow)
    for t in 0..<tileRows {
      let top = rows.lowerBound &+ t &* tileHeight
      let bottom = Swift.min(top &+ tileHeight, rows.upperBound)
      for b in 0..<blocksPerRow {
        var union = colourBoxes[top &* blocksPerRow &+ b]
        for y in (top &+ 1)..<bottom {
          let box = colourBoxes[y &* blocksPerRow &+ b]
          for lane in 0..<4 {
            union[lane] = Swift.min(union[lane], box[lane])
            union[4 &+ lane] = Swift.max(union[4 &+ lane], box[4 &+ lane])
          }
        }
        boxes[t &* blocksPerRow &+ b] = union
      }
    }
    return boxes
  }

  /// The runs of equal labels along the rows of a band, in raster order.
  func labelRuns(rows: Range<Int>) -> [LabelRun] {
    var runs: [LabelRun] = []
    runs.reserveCapacity(rows.count * 16)
    for y in rows {
      let row = y &* width
      var x = 0
      while x < width {
        let label = owner[row &+ x]
        var end = x &+ 1
        while end < width && owner[row &+ end] == label { end &+= 1 }
        runs.append(LabelRun(start: row &+ x, end: row &+ end, label: label.integer))
        x = end
      }
    }
    return runs
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

  /// The distances of pixels `xStart..<xEnd` of row `y` to centre k, written into `best`.
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
  /// - Parameter tileBoxes: `tileColourBoxes(rows:)` of these rows.
  func assign<Metric: ColourMetric>(
    rows: Range<Int>, previousRuns: UnsafeBufferPointer<LabelRun>?,
    tileBoxes: UnsafeBufferPointer<SIMD8<Scalar>>, metric: Metric.Type
  ) -> Bool where Metric.Scalar == Scalar {
    precondition(
      tileBoxes.count == (rows.count + tileHeight - 1) / tileHeight * blocksPerRow,
      "tile boxes of other rows")
    let firstIteration = previousRuns == nil
    // Incumbents, run by run of equal labels along each row (the runs the previous update
    // used; at first, runs of nearest seeds): the previous centre where its window covers the
    // pixel; elsewhere none (∞), and the pixel keeps its old label unless a window covers it.
    var runIndex = 0
    for y in rows {
      let row = y &* width
      var x = 0
      while x < width {
        let guess: Scalar
        let end: Int
        if let previousRuns {
          let run = previousRuns[runIndex]
          runIndex &+= 1
          guess = Scalar.converting(run.label)
          end = run.end &- row
        } else {
          guess = home[row &+ x]
          var scan = x &+ 1
          while scan < width && home[row &+ scan] == guess { scan &+= 1 }
          end = scan
        }
        var coveredStart = end
        var coveredEnd = end
        let k = guess.integer
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
            for i in coveredStart..<coveredEnd { owner[row &+ i] = guess }
          }
        }
        for i in coveredEnd..<end { best[row &+ i] = .infinity }
        x = end
      }
      let maxima = blockMaximum + y &* blocksPerRow
      let owners = blockOwner + y &* blocksPerRow
      if firstIteration {
        for x in 0..<width { bound[row &+ x] = firstBound(row: y, column: x) }
      }
      let bounds = firstIteration ? bound : best
      for b in 0..<blocksPerRow {
        let start = b &* blockWidth
        let end = Swift.min(start &+ blockWidth, width)
        let common = owner[row &+ start]
        if end &- start == blockWidth {
          // Whole blocks, a vector at a time: the largest bound, and whether every pixel
          // has the first one's incumbent (an uncovered pixel's ∞ bound makes that moot).
          let (largest, same) = Scalar.blockSummary(
            bounds: bounds + (row &+ start), owners: owner + (row &+ start), common: common)
          maxima[b] = largest
          owners[b] = same && largest.isFinite ? common : -1
        } else {
          var maximum = -Scalar.infinity
          var same = true
          for i in start..<end {
            maximum = Swift.max(maximum, bounds[row &+ i])
            same = same && owner[row &+ i] == common
          }
          maxima[b] = maximum
          owners[b] = same && maximum.isFinite ? common : -1
        }
      }
    }

    // Tiles of `tileHeight` rows × one block, within the band: the largest bound and the
    // common incumbent of their blocks, to skip 8 rows of a block with one test.
    let tileRows = (rows.count &+ tileHeight &- 1) / tileHeight
    let tileMaximum = UnsafeMutablePointer<Scalar>.allocate(capacity: tileRows * blocksPerRow)
    let tileOwner = UnsafeMutablePointer<Scalar>.allocate(capacity: tileRows * blocksPerRow)
    let spans = UnsafeMutablePointer<(Int, Int, Scalar)>.allocate(capacity: blocksPerRow)
    defer {
      tileMaximum.deallocate()
      tileOwner.deallocate()
      spans.deallocate()
    }
    for t in 0..<tileRows {
      let top = rows.lowerBound &+ t &* tileHeight
      let bottom = Swift.min(top &+ tileHeight, rows.upperBound)
      for b in 0..<blocksPerRow {
        var maximum = -Scalar.infinity
        let common = blockOwner[top &* blocksPerRow &+ b]
        var shared = true
        for y in top..<bottom {
          maximum = Swift.max(maximum, blockMaximum[y &* blocksPerRow &+ b])
          shared = shared && blockOwner[y &* blocksPerRow &+ b] == common
        }
        tileMaximum[t &* blocksPerRow &+ b] = maximum
        tileOwner[t &* blocksPerRow &+ b] = shared ? common : -1
      }
    }

    var assigned = false
    let context = MetricContext<Scalar>(pixelCount: pixelCount, channels: channels, weight: colourWeight)
    let weight = SIMD4<Scalar>(repeating: spatialWeight)
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
      let firstBlock = window.xMin / blockWidth
      let lastBlock = (window.xMax &- 1) / blockWidth
      // Each block's span in the window and the squared column distance of its pixel nearest
      // the centre, the same for every row. Distances are computed as in the loop below
      // (c − x, squared), and rounding is monotone, so these are lower bounds of its terms.
      let blockCount = lastBlock &- firstBlock &+ 1
      for i in 0..<blockCount {
        let b = firstBlock &+ i
        let xStart = Swift.max(b &* blockWidth, window.xMin)
        let xEnd = Swift.min((b &+ 1) &* blockWidth, window.xMax)
        let first = Scalar.converting(xStart)
        let last = Scalar.converting(xEnd &- 1)
        let nearest = x0 < first ? x0 - first : (x0 > last ? x0 - last : 0)
        spans[i] = (xStart, xEnd, nearest * nearest)
      }
      let firstTile = (yMin &- rows.lowerBound) / tileHeight
      let lastTile = (yMax &- 1 &- rows.lowerBound) / tileHeight
      for t in firstTile...lastTile {
        let top = Swift.max(rows.lowerBound &+ t &* tileHeight, yMin)
        let bottom = Swift.min(rows.lowerBound &+ (t &+ 1) &* tileHeight, yMax)
        let firstRow = Scalar.converting(top)
        let lastRow = Scalar.converting(bottom &- 1)
        let nearestRow = y0 < firstRow ? y0 - firstRow : (y0 > lastRow ? y0 - lastRow : 0)
        let nearestRowSquared = nearestRow * nearestRow
        let tileMaxima = tileMaximum + (t &* blocksPerRow &+ firstBlock)
        let tileOwners = tileOwner + (t &* blocksPerRow &+ firstBlock)
        let tileBoxesHere = tileBoxes.baseAddress! + (t &* blocksPerRow &+ firstBlock)
        for i in 0..<blockCount {
          let (xStart, xEnd, nearestSquared) = spans[i]
          // The tile's pixels are all farther in space than their incumbents, or all have
          // this centre as incumbent: nothing in it can change (see the per-block tests).
          let tileSpatialBound = (nearestRowSquared + nearestSquared) * spatialWeight
          if tileSpatialBound > tileMaxima[i] || tileOwners[i] == label {
            continue
          }
          if !firstIteration
            && tileSpatialBound
              + Metric.lowerBound(box: tileBoxesHere[i], centre: colour, context: context)
              > tileMaxima[i]
          {
            continue
          }
          let block = firstBlock &+ i
          for y in top..<bottom {
            let dy = y0 - Scalar.converting(y)
            let dyy = dy * dy
            let spatialBound = (dyy + nearestSquared) * spatialWeight
            let slot = y &* blocksPerRow &+ block
            let maximum = blockMaximum[slot]
            if spatialBound > maximum { continue }
            // A block whose every pixel has this centre as incumbent: re-evaluating gives
            // each pixel its own incumbent distance back, which changes nothing (others may
            // have taken pixels meanwhile, by being closer, or as close and lower).
            if blockOwner[slot] == label { continue }
            // After the first iteration the maxima bound whole distances, so the colour
            // term's lower bound can be added (in the first they bound spatial terms alone).
            if !firstIteration
              && spatialBound
                + Metric.lowerBound(box: colourBoxes[slot], centre: colour, context: context)
                > maximum
            {
              continue
            }
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
    return assigned
  }
}

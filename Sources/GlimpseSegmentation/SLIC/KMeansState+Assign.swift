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

extension KMeansState {
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
    let context = MetricContext<Scalar>(
      pixelCount: pixelCount, channels: channels, weight: colourWeight)
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
  ///
  /// Four steps (see the implementation notes above): each pixel's incumbent distance, the
  /// per-block and per-tile summaries the pruning tests read, then every centre offered to
  /// the pixels of its window that it might win.
  /// - Parameter boxes: `bandBoxes(rows:)` of these rows.
  func assign<Metric: ColourMetric>(
    rows: Range<Int>, previousRuns: UnsafeBufferPointer<LabelRun>?,
    boxes: BandBoxes<Scalar>, metric: Metric.Type
  ) -> Bool where Metric.Scalar == Scalar {
    let summaries = BandSummaries<Scalar>(rows: rows.count, blocksPerRow: blocksPerRow)
    defer { summaries.deallocate() }
    precondition(boxes.tileCount == summaries.tileCount, "boxes of other rows")
    let firstIteration = previousRuns == nil
    var runIndex = 0
    for y in rows {
      seedIncumbents(row: y, previousRuns: previousRuns, runIndex: &runIndex, metric: Metric.self)
      summariseBlocks(row: y, band: rows, into: summaries, firstIteration: firstIteration)
    }
    summariseTiles(band: rows, summaries)
    var assigned = false
    for k in 0..<centreCount {
      let met = offerWindow(
        of: k, band: rows, boxes: boxes, summaries: summaries, firstIteration: firstIteration,
        metric: Metric.self)
      assigned = assigned || met
    }
    return assigned
  }

  /// Step 1: the incumbents of row `y`, run by run of equal labels (the runs the previous
  /// update used; at first, runs of nearest seeds): the previous centre's distance where its
  /// window covers the pixel; elsewhere none (∞), and the pixel keeps its old label unless a
  /// window covers it.
  @inline(__always)
  private func seedIncumbents<Metric: ColourMetric>(
    row y: Int, previousRuns: UnsafeBufferPointer<LabelRun>?, runIndex: inout Int,
    metric: Metric.Type
  ) where Metric.Scalar == Scalar {
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
        if previousRuns == nil {
          for i in coveredStart..<coveredEnd { owner[row &+ i] = Scalar.converting(k) }
        }
      }
      for i in coveredEnd..<end { best[row &+ i] = .infinity }
      x = end
    }
  }

  /// Step 2: row `y`'s block summaries in its tile's lane: each block's largest bound (the
  /// incumbent distance; in the first iteration `firstBound`) and its incumbent centre when
  /// all its pixels share one, else -1.
  @inline(__always)
  private func summariseBlocks(
    row y: Int, band rows: Range<Int>, into summaries: BandSummaries<Scalar>, firstIteration: Bool
  ) {
    let row = y &* width
    let tile = (y &- rows.lowerBound) / tileHeight
    let lane = (y &- rows.lowerBound) &- tile &* tileHeight
    let maxima = summaries.rowMaxima + (tile &* blocksPerRow &* tileHeight &+ lane)
    let owners = summaries.rowOwners + (tile &* blocksPerRow &* tileHeight &+ lane)
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

  /// Step 3: tiles of `tileHeight` rows × one block, within the band: the largest bound and
  /// the common incumbent of their blocks, to skip 8 rows of a block with one test.
  @inline(__always)
  private func summariseTiles(band rows: Range<Int>, _ summaries: BandSummaries<Scalar>) {
    for t in 0..<summaries.tileRows {
      let count = Swift.min(tileHeight, rows.count &- t &* tileHeight)
      for b in 0..<blocksPerRow {
        let s = t &* blocksPerRow &+ b
        let maxima = summaries.rowMaxima + s &* tileHeight
        let owners = summaries.rowOwners + s &* tileHeight
        var maximum = maxima[0]
        var shared = true
        for r in 1..<count {
          maximum = Swift.max(maximum, maxima[r])
          shared = shared && owners[r] == owners[0]
        }
        summaries.tileMaximum[s] = maximum
        summaries.tileOwner[s] = shared ? owners[0] : -1
      }
    }
  }

  /// Step 4: offers centre k to the pixels of its window within the band that it might win,
  /// skipping tiles, then rows of blocks, whose bounds rule it out; returns whether its
  /// window meets the band.
  @inline(__always)
  private func offerWindow<Metric: ColourMetric>(
    of k: Int, band rows: Range<Int>, boxes: BandBoxes<Scalar>,
    summaries: BandSummaries<Scalar>, firstIteration: Bool, metric: Metric.Type
  ) -> Bool where Metric.Scalar == Scalar {
    let window = windows[k]
    let yMin = Swift.max(window.yMin, rows.lowerBound)
    let yMax = Swift.min(window.yMax, rows.upperBound)
    guard yMin < yMax && window.xMin < window.xMax else { return false }
    let context = MetricContext<Scalar>(
      pixelCount: pixelCount, channels: channels, weight: colourWeight)
    let rowWeight = SIMD8<Scalar>(repeating: spatialWeight)
    let rowOffsets = SIMD8<Scalar>(0, 1, 2, 3, 4, 5, 6, 7)
    let y0 = Scalar.converting(centreY[k])
    let x0 = Scalar.converting(centreX[k])
    let colour = Metric.centre(centreColour + k &* channels)
    let label = Scalar.converting(k)
    let labelRows = SIMD8<Scalar>(repeating: label)
    let firstBlock = window.xMin / blockWidth
    let lastBlock = (window.xMax &- 1) / blockWidth
    // Each block's squared column distance of its pixel nearest the centre (within the
    // window), the same for every row. Distances are computed as in the loop below
    // (c − x, squared), and rounding is monotone, so these are lower bounds of its terms.
    let spans = summaries.spans
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
            bounds: tileBounds, maxima: loadEight(summaries.tileMaximum + (tileSlot &+ chunk)),
            owners: loadEight(summaries.tileOwner + (tileSlot &+ chunk)), label: labelRows)
          & ((1 &<< Swift.min(blockCount &- chunk, 8)) &- 1)
        let chunkStart = chunk
        chunk &+= 8
        while tiles != 0 {
          let i = chunkStart &+ tiles.trailingZeroBitCount
          tiles &= tiles &- 1
          let s = tileSlot &+ i
          let b = firstBlock &+ i
          // The block in each row of the tile, all rows at once: skipped when its bound
          // exceeds its largest incumbent distance, or when every pixel has this centre as
          // incumbent (re-evaluating gives each pixel its own incumbent distance back, which
          // changes nothing; others may have taken pixels meanwhile, by being closer, or as
          // close and lower). After the first iteration the maxima bound whole distances, so
          // the colour term's lower bound is added (in the first they bound spatial terms
          // alone); it is ≥ 0, so the sum is no smaller than the spatial bound.
          let spatialBounds = (dyyRows + SIMD8(repeating: spans[i])) * rowWeight
          let rowBounds =
            firstIteration
            ? spatialBounds
            : spatialBounds
              + Metric.lowerBounds(
                boxes: boxes.rows + s &* 64, stride: 8, centre: colour, context: context)
          var evaluate =
            Scalar.rowsToEvaluate(
              bounds: rowBounds,
              maxima: loadEight(summaries.rowMaxima + s &* tileHeight),
              owners: loadEight(summaries.rowOwners + s &* tileHeight), label: labelRows)
            & windowRows
          let xStart = Swift.max(b &* blockWidth, window.xMin)
          let xEnd = Swift.min((b &+ 1) &* blockWidth, window.xMax)
          while evaluate != 0 {
            let y = tileTop &+ evaluate.trailingZeroBitCount
            evaluate &= evaluate &- 1
            offerRun(
              of: label, at: (y0, x0), row: y, from: xStart, to: xEnd, colour: colour,
              context: context, metric: Metric.self)
          }
        }
      }
    }
    return true
  }

  /// Offers the centre `label` at (y0, x0) to pixels `xStart..<xEnd` of row `y`, four at a
  /// time, then one by one. The centre comes as values, not read from `centreY`/`centreX`
  /// here: the compiler cannot prove those loads unaffected by the writes to `best` and
  /// `owner`, and repeated them for every run.
  @inline(__always)
  private func offerRun<Metric: ColourMetric>(
    of label: Scalar, at centre: (y0: Scalar, x0: Scalar), row y: Int, from xStart: Int,
    to xEnd: Int, colour: Metric.Centre, context: MetricContext<Scalar>, metric: Metric.Type
  ) where Metric.Scalar == Scalar {
    let x0 = centre.x0
    let dy = centre.y0 - Scalar.converting(y)
    let dyy = dy * dy
    let dyyLanes = SIMD4<Scalar>(repeating: dyy)
    let x0Lanes = SIMD4<Scalar>(repeating: x0)
    let labelLanes = SIMD4<Scalar>(repeating: label)
    let weight = SIMD4<Scalar>(repeating: spatialWeight)
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

/// The scratch summaries of one band's `assign`: per tile, lane by lane across its rows (lane
/// r: row top + r), each row's block maximum bound and common incumbent (-1 when its pixels
/// differ); per tile, the same over its rows; per block of a centre's window, its squared
/// nearest column distance. Rows beyond the band keep -∞, which no bound passes; eight
/// slots past the last tile and block are read with the last ones and masked out.
struct BandSummaries<Scalar: KMeansScalar> {
  let tileRows: Int
  let tileCount: Int
  let rowMaxima: UnsafeMutablePointer<Scalar>
  let rowOwners: UnsafeMutablePointer<Scalar>
  let tileMaximum: UnsafeMutablePointer<Scalar>
  let tileOwner: UnsafeMutablePointer<Scalar>
  let spans: UnsafeMutablePointer<Scalar>

  init(rows: Int, blocksPerRow: Int) {
    tileRows = (rows &+ tileHeight &- 1) / tileHeight
    tileCount = tileRows &* blocksPerRow
    rowMaxima = .allocate(capacity: tileCount &* tileHeight)
    rowMaxima.initialize(repeating: -.infinity, count: tileCount &* tileHeight)
    rowOwners = .allocate(capacity: tileCount &* tileHeight)
    rowOwners.initialize(repeating: -1, count: tileCount &* tileHeight)
    tileMaximum = .allocate(capacity: tileCount &+ 8)
    tileMaximum.initialize(repeating: -.infinity, count: tileCount &+ 8)
    tileOwner = .allocate(capacity: tileCount &+ 8)
    tileOwner.initialize(repeating: -1, count: tileCount &+ 8)
    spans = .allocate(capacity: blocksPerRow &+ 8)
    spans.initialize(repeating: 0, count: blocksPerRow &+ 8)
  }

  func deallocate() {
    rowMaxima.deallocate()
    rowOwners.deallocate()
    tileMaximum.deallocate()
    tileOwner.deallocate()
    spans.deallocate()
  }
}

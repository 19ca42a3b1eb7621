import GlimpseCore

extension KMeansState {
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
}

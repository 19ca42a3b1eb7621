import GlimpseCore

/// Two rows whose images look alike: a re-encoded, shifted, brightened or lightly noised copy.
public struct NearDuplicatePair: Sendable, Equatable {
  /// The smaller row index.
  public var first: Int
  /// The larger row index.
  public var second: Int
  /// `ImageDescriptor.distance` between the two (0 = the same picture).
  public var distance: Double

  /// A pair of similar rows.
  public init(first: Int, second: Int, distance: Double) {
    self.first = first
    self.second = second
    self.distance = distance
  }
}

/// Finds near-duplicate images without comparing every pair at full resolution.
///
/// Each image becomes an `ImageDescriptor` (32 × 32 grey). Candidates come from a coarse 8 × 8
/// summary: the `candidates` most correlated rows of each row, found with one BLAS product per
/// block of rows. Each candidate pair then gets the exact shift-minimised distance, and pairs at
/// or under `threshold` are reported.
///
/// The default threshold, 0.015, comes from data (Tests/GlimpseAuditTests/Fixtures/scripts):
/// on the first 300 digits of samples/mnist plus 40 constructed copies (JPEG quality 75,
/// shifted by 1 or 2 pixels, Gaussian noise of σ = 8/255, brightened `0.9 v + 40/255`), the
/// copies lie at 0.0002–0.0106 from their originals and the closest natural pairs at 0.0159
/// and 0.0236.
public struct NearDuplicateFinder: Sendable {
  /// Pairs at or under this distance are near-duplicates.
  public var threshold = 0.015
  /// The largest translation tried, in descriptor cells (a 28-pixel digit: 1.75 pixels a cell
  /// would be 32 / 28 cells a pixel, so 2 cells ≈ 1.75 pixels; a 128-pixel image: 8 pixels).
  public var shift = 2
  /// Candidates examined per row.
  public var candidates = 10
  /// Half-cell moves are tried only for pairs whose whole-cell distance is under this: they
  /// cost six more comparisons a pair, and they only matter near the threshold (they brought a
  /// 2-pixel-shifted 128-pixel cat crop from 0.029 to 0.004; the 40 constructed digit copies
  /// are under 0.0123 without them). On the 5000 sample digits the cutoff takes the audit from
  /// 5.2 to 2.0 s of processor time and finds the same 16 pairs.
  public var halfCellCutoff = 0.1

  /// The default settings.
  public init() {}

  /// The descriptor of every row, computed in parallel.
  public func descriptors(_ images: AuditImages) -> [ImageDescriptor] {
    parallelMap(images.count) {
      ImageDescriptor(shape: images.shapes[$0], samples: images.samples[$0])
    }
  }

  /// Near-duplicate pairs, closest first, leaving out pairs of identical images (exact
  /// duplicates are reported on their own).
  public func pairs(_ images: AuditImages, descriptors: [ImageDescriptor]? = nil)
    -> [NearDuplicatePair]
  {
    let descriptors = descriptors ?? self.descriptors(images)
    let candidatePairs = candidatePairs(descriptors)
    let distances = parallelMap(candidatePairs.count) { index in
      let (i, j) = candidatePairs[index]
      return descriptors[i].distance(
        to: descriptors[j], shift: shift, halfCellsBelow: halfCellCutoff)
    }
    var result = [NearDuplicatePair]()
    for (index, (i, j)) in candidatePairs.enumerated() where distances[index] <= threshold {
      if images.shapes[i] == images.shapes[j] && images.samples[i] == images.samples[j] {
        continue
      }
      result.append(NearDuplicatePair(first: i, second: j, distance: distances[index]))
    }
    return result.sorted { ($0.distance, $0.first, $0.second) < ($1.distance, $1.first, $1.second) }
  }

  /// Each row's `candidates` most correlated other rows on the coarse summary, as pairs
  /// `(i, j)` with `i < j`, without repeats, in ascending order.
  func candidatePairs(_ descriptors: [ImageDescriptor]) -> [(Int, Int)] {
    let n = descriptors.count
    guard n > 1 else { return [] }
    let coarse = descriptors.map { $0.coarse() }
    let width = coarse[0].count
    let all = Matrix(rows: n, columns: width, storage: coarse.flatMap { $0 })
    let k = min(candidates, n - 1)
    let blockRows = 512
    let blocks = (n + blockRows - 1) / blockRows
    let perBlock: [[(Int, Int)]] = parallelMap(blocks) { block in
      let rows = (block * blockRows)..<min(n, (block + 1) * blockRows)
      let part = all.selectingRows(rows)
      let similarity = Matrix.product(part, all, transposeB: true)
      var found = [(Int, Int)]()
      for (offset, i) in rows.enumerated() {
        let line = similarity.row(offset)
        var best = [(Double, Int)]()
        for (j, value) in zip(0..<n, line) where j != i {
          if best.count < k {
            best.append((value, j))
            if best.count == k { best.sort { $0 > $1 } }
          } else if value > best[k - 1].0 {
            var place = k - 1
            while place > 0 && best[place - 1].0 < value { place -= 1 }
            best.insert((value, j), at: place)
            best.removeLast()
          }
        }
        for (_, j) in best { found.append((min(i, j), max(i, j))) }
      }
      return found
    }
    var seen = Set<Int>()
    var result = [(Int, Int)]()
    for pair in perBlock.joined() where seen.insert(pair.0 * n + pair.1).inserted {
      result.append(pair)
    }
    return result.sorted { $0 < $1 }
  }
}

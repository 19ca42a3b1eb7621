// Implementation notes (scikit-image 0.26's `_get_mask_centroids`, maskSLIC step 1)
// 1. scikit-image draws `n` distinct mask pixels with NumPy's legacy
//    `RandomState(123).choice(len, n, replace=False)`, which is the first n entries of
//    `permutation(len)`: a Fisher–Yates shuffle of 0..<len from the last index down, each swap
//    index drawn by `random_interval(i)` (MT19937 32-bit words masked to the bit length of i,
//    redrawn while above i). `LegacyMT19937` reproduces that stream (Matsumoto & Nishimura
//    1998, `init_genrand`), so the seeds are scikit-image's, not merely as well spread.
// 2. When the mask has more than 100·n pixels, a second `choice` of 100·n pixels (from the same
//    generator) is what k-means runs on, to save time.
// 3. Then scipy's `kmeans2(points, seeds, iter=5)`: five rounds of nearest seed (squared
//    distance summed over (z, y, x) in order, the first seed on ties; scipy's plain loop for
//    fewer than five features) and means in pixel order; a seed left without points keeps its
//    place.
// 4. The distance normaliser: for each seed its nearest other seed (Euclidean, the first on
//    ties), the mean |Δ| per axis over seeds, and S the largest of those means (the z axis's is
//    0). scikit-image hands S to `_slic_cython` as a float32, so it is rounded to `Float`.

/// NumPy's legacy MT19937 (`np.random.RandomState(seed)`), only what `choice` needs.
struct LegacyMT19937 {
  private var state = [UInt32](repeating: 0, count: 624)
  private var index = 624

  /// `init_genrand(seed)`, as `RandomState(seed)` seeds a 32-bit integer.
  init(seed: UInt32) {
    state[0] = seed
    for i in 1..<624 {
      state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
    }
  }

  /// `genrand_int32`.
  mutating func next() -> UInt32 {
    if index >= 624 {
      for i in 0..<624 {
        let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7fff_ffff)
        state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
      }
      index = 0
    }
    var y = state[index]
    index += 1
    y ^= y >> 11
    y ^= (y << 7) & 0x9d2c_5680
    y ^= (y << 15) & 0xefc6_0000
    y ^= y >> 18
    return y
  }

  /// `random_interval(max)`: uniform on 0...max by masked rejection (max < 2³²).
  mutating func interval(_ maximum: Int) -> Int {
    guard maximum > 0 else { return 0 }
    var mask = UInt32(maximum)
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    while true {
      let value = next() & mask
      if value <= UInt32(maximum) { return Int(value) }
    }
  }

  /// `permutation(count)`: 0..<count shuffled from the last index down.
  mutating func permutation(_ count: Int) -> [Int] {
    var values = Array(0..<count)
    var i = count - 1
    while i >= 1 {
      values.swapAt(i, interval(i))
      i -= 1
    }
    return values
  }

  /// `choice(count, size, replace=False)`, sorted as scikit-image sorts it.
  mutating func sortedChoice(_ count: Int, size: Int) -> [Int] {
    Array(permutation(count).prefix(size)).sorted()
  }
}

extension SLICSegmenter {
  /// maskSLIC's seeds for `mask`: rows, columns and the distance normaliser S (as a `Float`).
  /// - Parameter multichannel: whether scikit-image sees a channel axis (colour, or lime's
  ///   grey copy): its k-means subset is 100·n pixels then, and 1000·n for a 2-D grey array,
  ///   because it counts the mask's depth axis as spatial there.
  static func maskSeeds(_ mask: RegionMask, count: Int, multichannel: Bool) -> (
    rows: [Double], columns: [Double], step: Float
  ) {
    var pointRows: [Double] = []
    var pointColumns: [Double] = []
    for y in 0..<mask.height {
      for x in 0..<mask.width where mask.inside[y * mask.width + x] {
        pointRows.append(Double(y))
        pointColumns.append(Double(x))
      }
    }
    var generator = LegacyMT19937(seed: 123)
    let chosen = generator.sortedChoice(pointRows.count, size: min(count, pointRows.count))
    // Ten times denser per spatial axis: 10² seeds' worth, or 10³ without a channel axis.
    let denseCount = (multichannel ? 100 : 1000) * count
    let points =
      pointRows.count > denseCount
      ? generator.sortedChoice(pointRows.count, size: denseCount) : Array(pointRows.indices)
    var seedRows = chosen.map { pointRows[$0] }
    var seedColumns = chosen.map { pointColumns[$0] }
    let k = seedRows.count
    for _ in 0..<5 {
      var sumRows = [Double](repeating: 0, count: k)
      var sumColumns = [Double](repeating: 0, count: k)
      var members = [Int](repeating: 0, count: k)
      for p in points {
        var best = Double.infinity
        var nearest = 0
        for j in 0..<k {
          // (z, y, x) with z = 0 on both sides: 0 + Δy² + Δx², in scipy's order.
          let dy = seedRows[j] - pointRows[p]
          let dx = seedColumns[j] - pointColumns[p]
          let distance = 0 + dy * dy + dx * dx
          if distance < best {
            best = distance
            nearest = j
          }
        }
        sumRows[nearest] += pointRows[p]
        sumColumns[nearest] += pointColumns[p]
        members[nearest] += 1
      }
      for j in 0..<k where members[j] > 0 {
        seedRows[j] = sumRows[j] / Double(members[j])
        seedColumns[j] = sumColumns[j] / Double(members[j])
      }
    }
    // Mean |Δ| to the nearest other seed, per axis (a lone seed is its own nearest: Δ = 0).
    var meanRow = 0.0
    var meanColumn = 0.0
    for i in 0..<k {
      var best = Double.infinity
      var nearest = i
      for j in 0..<k where j != i {
        let dy = seedRows[i] - seedRows[j]
        let dx = seedColumns[i] - seedColumns[j]
        let distance = (dy * dy + dx * dx).squareRoot()
        if distance < best {
          best = distance
          nearest = j
        }
      }
      meanRow += abs(seedRows[i] - seedRows[nearest])
      meanColumn += abs(seedColumns[i] - seedColumns[nearest])
    }
    let step = k > 0 ? max(meanRow / Double(k), meanColumn / Double(k), 0) : 1
    return (seedRows, seedColumns, Float(step))
  }
}

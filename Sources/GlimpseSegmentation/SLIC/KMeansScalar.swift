// Implementation notes
// 1. The scalar is `Double` (scikit-image's float64, bit for bit its distances) or `Float`.
//    On large images k-means runs in `Float`: the planes are read ~16 times per iteration, and
//    in single precision they are half the bytes and twice the lanes per vector. Distances then
//    differ from scikit-image's in the last bits, which hands a near-tie pixel to the other
//    centre now and then (adjusted Rand index 0.99996 on the 512 × 512 photo). Small images
//    keep `Double`: they are cheap anyway, and on the 28 × 28 digits at compactness 0.1 with
//    smoothing such ties cascade (ARI 0.86 in `Float`) where `Double` gives scikit-image's
//    partition exactly.

/// The scalars k-means can run in (`Float`, `Double`).
///
/// Conversions and the vector comparisons are requirements implemented on the concrete types:
/// in generic code (even once specialized) the standard library's generic conversions are not
/// inlined and its SIMD comparisons and masks go lane by lane through memory, which made the
/// k-means twice as slow; on the concrete types they are single instructions.
/// (`Codable` only because the compiler asks protocols that use `SIMD8<Self>` to state it.)
protocol KMeansScalar: BinaryFloatingPoint, SIMDScalar, Codable {
  /// `Self(value)`, rounded to nearest.
  static func converting(_ value: Double) -> Self
  /// `Self(value)`, exact for |value| < 2²⁴.
  static func converting(_ value: Int) -> Self
  /// `Int(self)`, truncated.
  var integer: Int { get }
  /// Offers pixels `0..<laneCount` at `best`/`owner` to centre `label` at distances `d` under
  /// scikit-image's rule, lane by lane: strictly closer, or as close and lower-numbered.
  static func offer(
    _ d: SIMD4<Self>, label: SIMD4<Self>, best: UnsafeMutablePointer<Self>,
    owner: UnsafeMutablePointer<Self>)
  /// The largest of `blockWidth` bounds and whether all `blockWidth` owners equal `common`.
  static func blockSummary(
    bounds: UnsafePointer<Self>, owners: UnsafePointer<Self>, common: Self
  ) -> (largest: Self, same: Bool)
  /// The smallest and largest of `blockWidth` scalars.
  static func extremes(of pointer: UnsafePointer<Self>) -> (low: Self, high: Self)
  /// The pixels of `pointer[0..<8]` (bit l for pixel l) whose value differs from the one before
  /// it (`pointer[-1]` for the first).
  static func changes(_ pointer: UnsafePointer<Self>) -> Int
  /// Lane by lane, the signed distance from `centre` to `[low, high]` (0 inside), computed as
  /// `low − c` or `high − c` like a pixel's difference (see `distanceToInterval`).
  static func intervalDistances(low: SIMD8<Self>, high: SIMD8<Self>, centre: Self) -> SIMD8<Self>
  /// The lanes (bit r for lane r) whose bound does not exceed their maximum and whose owner is
  /// not `label`: the rows of a tile a centre must evaluate.
  static func rowsToEvaluate(
    bounds: SIMD8<Self>, maxima: SIMD8<Self>, owners: SIMD8<Self>, label: SIMD8<Self>
  ) -> Int
}

extension KMeansScalar {
  @inline(__always)
  static func blockSummary(
    bounds: UnsafeMutablePointer<Self>, owners: UnsafeMutablePointer<Self>, common: Self
  ) -> (largest: Self, same: Bool) {
    blockSummary(bounds: UnsafePointer(bounds), owners: UnsafePointer(owners), common: common)
  }

  @inline(__always)
  static func changes(_ pointer: UnsafeMutablePointer<Self>) -> Int {
    changes(UnsafePointer(pointer))
  }
}

extension Float: KMeansScalar {
  @inline(__always) static func converting(_ value: Double) -> Float { Float(value) }
  @inline(__always) static func converting(_ value: Int) -> Float { Float(value) }
  @inline(__always) var integer: Int { Int(self) }

  @inline(__always)
  static func offer(
    _ d: SIMD4<Float>, label: SIMD4<Float>, best: UnsafeMutablePointer<Float>,
    owner: UnsafeMutablePointer<Float>
  ) {
    let incumbent = loadLanes(best)
    let owners = loadLanes(owner)
    let closer = (d .< incumbent) .| ((d .== incumbent) .& (label .< owners))
    storeLanes(incumbent.replacing(with: d, where: closer), best)
    storeLanes(owners.replacing(with: label, where: closer), owner)
  }

  @inline(__always)
  static func blockSummary(
    bounds: UnsafePointer<Float>, owners: UnsafePointer<Float>, common: Float
  ) -> (largest: Float, same: Bool) {
    var maximum = loadLanes(bounds)
    var same = loadLanes(owners) .== SIMD4(repeating: common)
    var i = laneCount
    while i < blockWidth {
      let next = loadLanes(bounds + i)
      maximum.replace(with: next, where: maximum .< next)
      same .&= loadLanes(owners + i) .== SIMD4(repeating: common)
      i &+= laneCount
    }
    // `pointwiseMax` and `max()` branch lane by lane on their NaN rules, which mispredicted
    // on every other block (a sixth of the k-means); bounds are never NaN, so a compare and
    // a select give the same maximum.
    var pairs = maximum.lowHalf
    pairs.replace(with: maximum.highHalf, where: pairs .< maximum.highHalf)
    return (pairs[0] < pairs[1] ? pairs[1] : pairs[0], all(same))
  }

  @inline(__always)
  static func extremes(of pointer: UnsafePointer<Float>) -> (low: Float, high: Float) {
    var low = loadLanes(pointer)
    var high = low
    var i = laneCount
    while i < blockWidth {
      let next = loadLanes(pointer + i)
      low.replace(with: next, where: next .< low)
      high.replace(with: next, where: next .> high)
      i &+= laneCount
    }
    var lows = low.lowHalf
    lows.replace(with: low.highHalf, where: low.highHalf .< lows)
    var highs = high.lowHalf
    highs.replace(with: high.highHalf, where: high.highHalf .> highs)
    return (lows[1] < lows[0] ? lows[1] : lows[0], highs[1] > highs[0] ? highs[1] : highs[0])
  }

  @inline(__always)
  static func changes(_ pointer: UnsafePointer<Float>) -> Int {
    let here = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    let before = UnsafeRawPointer(pointer - 1).loadUnaligned(as: SIMD8<Float>.self)
    let bits = SIMD8<Int32>(1, 2, 4, 8, 16, 32, 64, 128)
    return Int(SIMD8<Int32>().replacing(with: bits, where: here .!= before).wrappedSum())
  }

  @inline(__always)
  static func intervalDistances(
    low: SIMD8<Float>, high: SIMD8<Float>, centre: Float
  ) -> SIMD8<Float> {
    // As `distanceToInterval`: at most one term is nonzero (`pointwiseMax` would branch).
    let below = low - SIMD8(repeating: centre)
    let above = high - SIMD8(repeating: centre)
    return SIMD8<Float>().replacing(with: below, where: below .> 0)
      + SIMD8<Float>().replacing(with: above, where: above .< 0)
  }

  @inline(__always)
  static func rowsToEvaluate(
    bounds: SIMD8<Float>, maxima: SIMD8<Float>, owners: SIMD8<Float>, label: SIMD8<Float>
  ) -> Int {
    let evaluate = (bounds .<= maxima) .& (owners .!= label)
    let bits = SIMD8<Int32>(1, 2, 4, 8, 16, 32, 64, 128)
    return Int(SIMD8<Int32>().replacing(with: bits, where: evaluate).wrappedSum())
  }
}

extension Double: KMeansScalar {
  @inline(__always) static func converting(_ value: Double) -> Double { value }
  @inline(__always) static func converting(_ value: Int) -> Double { Double(value) }
  @inline(__always) var integer: Int { Int(self) }

  @inline(__always)
  static func offer(
    _ d: SIMD4<Double>, label: SIMD4<Double>, best: UnsafeMutablePointer<Double>,
    owner: UnsafeMutablePointer<Double>
  ) {
    let incumbent = loadLanes(best)
    let owners = loadLanes(owner)
    let closer = (d .< incumbent) .| ((d .== incumbent) .& (label .< owners))
    storeLanes(incumbent.replacing(with: d, where: closer), best)
    storeLanes(owners.replacing(with: label, where: closer), owner)
  }

  @inline(__always)
  static func blockSummary(
    bounds: UnsafePointer<Double>, owners: UnsafePointer<Double>, common: Double
  ) -> (largest: Double, same: Bool) {
    var maximum = loadLanes(bounds)
    var same = loadLanes(owners) .== SIMD4(repeating: common)
    var i = laneCount
    while i < blockWidth {
      let next = loadLanes(bounds + i)
      maximum.replace(with: next, where: maximum .< next)
      same .&= loadLanes(owners + i) .== SIMD4(repeating: common)
      i &+= laneCount
    }
    // `pointwiseMax` and `max()` branch lane by lane on their NaN rules, which mispredicted
    // on every other block (a sixth of the k-means); bounds are never NaN, so a compare and
    // a select give the same maximum.
    var pairs = maximum.lowHalf
    pairs.replace(with: maximum.highHalf, where: pairs .< maximum.highHalf)
    return (pairs[0] < pairs[1] ? pairs[1] : pairs[0], all(same))
  }

  @inline(__always)
  static func extremes(of pointer: UnsafePointer<Double>) -> (low: Double, high: Double) {
    var low = loadLanes(pointer)
    var high = low
    var i = laneCount
    while i < blockWidth {
      let next = loadLanes(pointer + i)
      low.replace(with: next, where: next .< low)
      high.replace(with: next, where: next .> high)
      i &+= laneCount
    }
    var lows = low.lowHalf
    lows.replace(with: low.highHalf, where: low.highHalf .< lows)
    var highs = high.lowHalf
    highs.replace(with: high.highHalf, where: high.highHalf .> highs)
    return (lows[1] < lows[0] ? lows[1] : lows[0], highs[1] > highs[0] ? highs[1] : highs[0])
  }

  @inline(__always)
  static func changes(_ pointer: UnsafePointer<Double>) -> Int {
    let here = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Double>.self)
    let before = UnsafeRawPointer(pointer - 1).loadUnaligned(as: SIMD8<Double>.self)
    let bits = SIMD8<Int64>(1, 2, 4, 8, 16, 32, 64, 128)
    return Int(SIMD8<Int64>().replacing(with: bits, where: here .!= before).wrappedSum())
  }

  @inline(__always)
  static func intervalDistances(
    low: SIMD8<Double>, high: SIMD8<Double>, centre: Double
  ) -> SIMD8<Double> {
    // As `distanceToInterval`: at most one term is nonzero (`pointwiseMax` would branch).
    let below = low - SIMD8(repeating: centre)
    let above = high - SIMD8(repeating: centre)
    return SIMD8<Double>().replacing(with: below, where: below .> 0)
      + SIMD8<Double>().replacing(with: above, where: above .< 0)
  }

  @inline(__always)
  static func rowsToEvaluate(
    bounds: SIMD8<Double>, maxima: SIMD8<Double>, owners: SIMD8<Double>, label: SIMD8<Double>
  ) -> Int {
    let evaluate = (bounds .<= maxima) .& (owners .!= label)
    let bits = SIMD8<Int64>(1, 2, 4, 8, 16, 32, 64, 128)
    return Int(SIMD8<Int64>().replacing(with: bits, where: evaluate).wrappedSum())
  }
}

/// 0, 1, 2, 3: the column offsets of a vector's pixels.
@inline(__always)
func laneOffsets<Scalar: KMeansScalar>() -> SIMD4<Scalar> { SIMD4(0, 1, 2, 3) }

/// Pixels per vector step.
let laneCount = 4

/// Consecutive scalars as a vector (any alignment).
@inline(__always)
func loadLanes<Scalar: KMeansScalar>(_ pointer: UnsafePointer<Scalar>) -> SIMD4<Scalar> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Scalar>.self)
}

/// Consecutive scalars as a vector (any alignment).
@inline(__always)
func loadLanes<Scalar: KMeansScalar>(_ pointer: UnsafeMutablePointer<Scalar>) -> SIMD4<Scalar> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Scalar>.self)
}

/// Stores a vector into consecutive scalars (any alignment).
@inline(__always)
func storeLanes<Scalar: KMeansScalar>(
  _ value: SIMD4<Scalar>, _ pointer: UnsafeMutablePointer<Scalar>
) {
  UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD4<Scalar>.self)
}

/// Eight consecutive scalars as a vector (any alignment).
@inline(__always)
func loadEight<Scalar: KMeansScalar>(_ pointer: UnsafePointer<Scalar>) -> SIMD8<Scalar> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Scalar>.self)
}

/// Eight consecutive scalars as a vector (any alignment).
@inline(__always)
func loadEight<Scalar: KMeansScalar>(_ pointer: UnsafeMutablePointer<Scalar>) -> SIMD8<Scalar> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Scalar>.self)
}

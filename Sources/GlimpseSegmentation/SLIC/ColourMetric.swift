// Implementation notes
// 1. Each metric sums the squared channel differences in scikit-image's order,
//    ((t0² + t1²) + t2²) for RGB, as `_slic_cython` does; the lane versions do the same
//    operations lane by lane, so a pixel's distance does not depend on which loop computed it.
// 2. A grey image read as RGB weighs its one squared difference by 3: the copy's
//    (t² + t²) + t² rounds exactly as 3·t² does, since t² + t² is exact.
// 3. The scalar is `Double` (scikit-image's float64, bit for bit its distances) or `Float`.
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
func storeLanes<Scalar: KMeansScalar>(_ value: SIMD4<Scalar>, _ pointer: UnsafeMutablePointer<Scalar>) {
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

/// What a colour metric needs besides the pixel and the centre.
struct MetricContext<Scalar: KMeansScalar> {
  let pixelCount: Int
  let channels: Int
  /// The factor on the squared difference (3 for a grey image read as RGB).
  let weight: Scalar
}

/// The squared colour distance of pixels to a centre, in scikit-image's summation order.
protocol ColourMetric {
  /// The scalar of planes, centres and distances.
  associatedtype Scalar: KMeansScalar
  /// A centre's colour, held in registers while its window is scanned.
  associatedtype Centre
  /// The colour of the centre whose features start at `pointer`.
  static func centre(_ pointer: UnsafePointer<Scalar>) -> Centre
  /// One pixel.
  static func squared(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: Centre, context: MetricContext<Scalar>
  ) -> Scalar
  /// Pixels `p..<p + laneCount`, lane by lane the same operations as `squared`.
  static func squaredLanes(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: Centre, context: MetricContext<Scalar>
  ) -> SIMD4<Scalar>
  /// A value no larger than `squared` for any pixel whose channels lie in `box`
  /// (`[lo…, hi…]`): the same operations on each channel's distance from the centre to the
  /// box, which rounding cannot make exceed the pixel's own.
  static func lowerBound(box: SIMD8<Scalar>, centre: Centre, context: MetricContext<Scalar>) -> Scalar
  /// `lowerBound` of eight boxes at once, lane by lane the same operations. `boxes` points to
  /// eight vectors of eight lanes, `stride` scalars apart: the boxes' lows of channels 0…3,
  /// then their highs.
  static func lowerBounds(
    boxes: UnsafePointer<Scalar>, stride: Int, centre: Centre, context: MetricContext<Scalar>
  ) -> SIMD8<Scalar>
}

/// The signed distance from `centre` to the interval `[low, high]` (0 inside), computed as
/// `low − c` or `high − c` like a pixel's difference, so rounding keeps it below the pixel's.
@inline(__always)
private func distanceToInterval<Scalar: KMeansScalar>(low: Scalar, high: Scalar, centre: Scalar) -> Scalar {
  // max(low − c, 0) + min(high − c, 0): at most one term is nonzero, so the sum is exact;
  // written without branches, which would be unpredictable here.
  Swift.max(low - centre, 0) + Swift.min(high - centre, 0)
}

/// One channel, weighted (3 for a grey image read as RGB; 3·t² rounds as t² + t² + t²).
enum GreyMetric<Scalar: KMeansScalar>: ColourMetric {
  @inline(__always)
  static func centre(_ pointer: UnsafePointer<Scalar>) -> Scalar { pointer[0] }

  @inline(__always)
  static func squared(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: Scalar, context: MetricContext<Scalar>
  ) -> Scalar {
    let t = planes[p] - centre
    return context.weight * (t * t)
  }

  @inline(__always)
  static func squaredLanes(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: Scalar, context: MetricContext<Scalar>
  ) -> SIMD4<Scalar> {
    let t = loadLanes(planes + p) - SIMD4<Scalar>(repeating: centre)
    return SIMD4<Scalar>(repeating: context.weight) * (t * t)
  }

  @inline(__always)
  static func lowerBound(box: SIMD8<Scalar>, centre: Scalar, context: MetricContext<Scalar>) -> Scalar {
    let t = distanceToInterval(low: box[0], high: box[4], centre: centre)
    return context.weight * (t * t)
  }

  // Not inlined, as `RGBMetric.lowerBounds` (see there).
  @inline(never)
  static func lowerBounds(
    boxes: UnsafePointer<Scalar>, stride: Int, centre: Scalar, context: MetricContext<Scalar>
  ) -> SIMD8<Scalar> {
    let t = Scalar.intervalDistances(
      low: loadEight(boxes), high: loadEight(boxes + 4 &* stride), centre: centre)
    return SIMD8(repeating: context.weight) * (t * t)
  }
}

/// Three channels weighted once: ((t0² + t1²) + t2²).
enum RGBMetric<Scalar: KMeansScalar>: ColourMetric {
  @inline(__always)
  static func centre(_ pointer: UnsafePointer<Scalar>) -> SIMD4<Scalar> {
    SIMD4(pointer[0], pointer[1], pointer[2], 0)
  }

  @inline(__always)
  static func squared(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: SIMD4<Scalar>, context: MetricContext<Scalar>
  ) -> Scalar {
    let n = context.pixelCount
    let t0 = planes[p] - centre[0]
    let t1 = planes[n &+ p] - centre[1]
    let t2 = planes[2 &* n &+ p] - centre[2]
    return (t0 * t0 + t1 * t1) + t2 * t2
  }

  @inline(__always)
  static func squaredLanes(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: SIMD4<Scalar>, context: MetricContext<Scalar>
  ) -> SIMD4<Scalar> {
    let n = context.pixelCount
    let t0 = loadLanes(planes + p) - SIMD4<Scalar>(repeating: centre[0])
    let t1 = loadLanes(planes + (n &+ p)) - SIMD4<Scalar>(repeating: centre[1])
    let t2 = loadLanes(planes + (2 &* n &+ p)) - SIMD4<Scalar>(repeating: centre[2])
    return (t0 * t0 + t1 * t1) + t2 * t2
  }

  @inline(__always)
  static func lowerBound(box: SIMD8<Scalar>, centre: SIMD4<Scalar>, context: MetricContext<Scalar>)
    -> Scalar
  {
    let t0 = distanceToInterval(low: box[0], high: box[4], centre: centre[0])
    let t1 = distanceToInterval(low: box[1], high: box[5], centre: centre[1])
    let t2 = distanceToInterval(low: box[2], high: box[6], centre: centre[2])
    return (t0 * t0 + t1 * t1) + t2 * t2
  }

  // Not inlined: inside `KMeansState.assign`, among its many other vector values, the compiler
  // lowered these eight-lane operations lane by lane, with shuffles, spills and a branch per
  // lane of the selects; compiled on their own they are straight SSE code. Outlining the RGB
  // bound made the slic-512 stage 8–9 % faster (labels bit-identical).
  @inline(never)
  static func lowerBounds(
    boxes: UnsafePointer<Scalar>, stride: Int, centre: SIMD4<Scalar>,
    context: MetricContext<Scalar>
  ) -> SIMD8<Scalar> {
    let t0 = Scalar.intervalDistances(
      low: loadEight(boxes), high: loadEight(boxes + 4 &* stride), centre: centre[0])
    let t1 = Scalar.intervalDistances(
      low: loadEight(boxes + stride), high: loadEight(boxes + 5 &* stride), centre: centre[1])
    let t2 = Scalar.intervalDistances(
      low: loadEight(boxes + 2 &* stride), high: loadEight(boxes + 6 &* stride),
      centre: centre[2])
    return (t0 * t0 + t1 * t1) + t2 * t2
  }
}

/// Any channel count, weighted once.
enum AnyMetric<Scalar: KMeansScalar>: ColourMetric {
  @inline(__always)
  static func centre(_ pointer: UnsafePointer<Scalar>) -> UnsafePointer<Scalar> { pointer }

  @inline(__always)
  static func squared(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: UnsafePointer<Scalar>,
    context: MetricContext<Scalar>
  ) -> Scalar {
    var sum: Scalar = 0
    for c in 0..<context.channels {
      let t = planes[c &* context.pixelCount &+ p] - centre[c]
      sum += t * t
    }
    return context.weight * sum
  }

  @inline(__always)
  static func squaredLanes(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: UnsafePointer<Scalar>,
    context: MetricContext<Scalar>
  ) -> SIMD4<Scalar> {
    var sum = SIMD4<Scalar>()
    for c in 0..<context.channels {
      let t = loadLanes(planes + (c &* context.pixelCount &+ p)) - SIMD4<Scalar>(repeating: centre[c])
      sum += t * t
    }
    return SIMD4<Scalar>(repeating: context.weight) * sum
  }

  /// 0: boxes hold at most four channels, and this metric is rarely used.
  @inline(__always)
  static func lowerBound(
    box: SIMD8<Scalar>, centre: UnsafePointer<Scalar>, context: MetricContext<Scalar>
  ) -> Scalar {
    0
  }

  // Not inlined, as `RGBMetric.lowerBounds` (see there).
  @inline(never)
  static func lowerBounds(
    boxes: UnsafePointer<Scalar>, stride: Int, centre: UnsafePointer<Scalar>,
    context: MetricContext<Scalar>
  ) -> SIMD8<Scalar> {
    SIMD8()
  }
}

// Implementation notes
// 1. Each metric sums the squared channel differences in scikit-image's order,
//    ((t0² + t1²) + t2²) for RGB, as `_slic_cython` does; the lane versions do the same
//    operations lane by lane, so a pixel's distance does not depend on which loop computed it.
// 2. A grey image read as RGB weighs its one squared difference by 3: the copy's
//    (t² + t²) + t² rounds exactly as 3·t² does, since t² + t² is exact.

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
  static func lowerBound(box: SIMD8<Scalar>, centre: Centre, context: MetricContext<Scalar>)
    -> Scalar
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
private func distanceToInterval<Scalar: KMeansScalar>(low: Scalar, high: Scalar, centre: Scalar)
  -> Scalar
{
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
  static func lowerBound(box: SIMD8<Scalar>, centre: Scalar, context: MetricContext<Scalar>)
    -> Scalar
  {
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
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: SIMD4<Scalar>,
    context: MetricContext<Scalar>
  ) -> Scalar {
    let n = context.pixelCount
    let t0 = planes[p] - centre[0]
    let t1 = planes[n &+ p] - centre[1]
    let t2 = planes[2 &* n &+ p] - centre[2]
    return (t0 * t0 + t1 * t1) + t2 * t2
  }

  @inline(__always)
  static func squaredLanes(
    planes: UnsafePointer<Scalar>, pixel p: Int, centre: SIMD4<Scalar>,
    context: MetricContext<Scalar>
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
      let t =
        loadLanes(planes + (c &* context.pixelCount &+ p)) - SIMD4<Scalar>(repeating: centre[c])
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

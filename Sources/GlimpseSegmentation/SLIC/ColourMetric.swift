// Implementation notes
// 1. Each metric sums the squared channel differences in scikit-image's order,
//    ((t0² + t1²) + t2²) for RGB, so distances are bit for bit those of `_slic_cython`; the
//    pair versions do the same operations lane by lane.
// 2. A grey image read as RGB weighs its one squared difference by 3: the copy's
//    (t² + t²) + t² rounds exactly as 3·t² does, since t² + t² is exact.

/// Two consecutive doubles as a vector (any alignment).
@inline(__always)
func loadPair(_ pointer: UnsafePointer<Double>) -> SIMD2<Double> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD2<Double>.self)
}

/// Two consecutive doubles as a vector (any alignment).
@inline(__always)
func loadPair(_ pointer: UnsafeMutablePointer<Double>) -> SIMD2<Double> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD2<Double>.self)
}

/// Stores a vector into two consecutive doubles (any alignment).
@inline(__always)
func storePair(_ value: SIMD2<Double>, _ pointer: UnsafeMutablePointer<Double>) {
  UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD2<Double>.self)
}

/// What a colour metric needs besides the pixel and the centre.
struct MetricContext {
  let pixelCount: Int
  let channels: Int
  /// The factor on the squared difference (3 for a grey image read as RGB).
  let weight: Double
}

/// The squared colour distance of pixels to a centre, in scikit-image's summation order.
protocol ColourMetric {
  /// A centre's colour, held in registers while its window is scanned.
  associatedtype Centre
  /// The colour of the centre whose features start at `pointer`.
  static func centre(_ pointer: UnsafePointer<Double>) -> Centre
  /// One pixel.
  static func squared(
    planes: UnsafePointer<Double>, pixel p: Int, centre: Centre, context: MetricContext
  ) -> Double
  /// Pixels `p` and `p + 1`, lane by lane the same operations as `squared`.
  static func squaredPair(
    planes: UnsafePointer<Double>, pixel p: Int, centre: Centre, context: MetricContext
  ) -> SIMD2<Double>
  /// A value no larger than `squared` for any pixel whose channels lie in `box`
  /// (`[lo…, hi…]`): the same operations on each channel's distance from the centre to the
  /// box, which rounding cannot make exceed the pixel's own.
  static func lowerBound(box: SIMD8<Double>, centre: Centre, context: MetricContext) -> Double
}

/// The signed distance from `centre` to the interval `[low, high]` (0 inside), computed as
/// `low − c` or `high − c` like a pixel's difference, so rounding keeps it below the pixel's.
@inline(__always)
private func distanceToInterval(low: Double, high: Double, centre: Double) -> Double {
  // max(low − c, 0) + min(high − c, 0): at most one term is nonzero, so the sum is exact;
  // written without branches, which would be unpredictable here.
  Swift.max(low - centre, 0) + Swift.min(high - centre, 0)
}

/// One channel, weighted (3 for a grey image read as RGB; 3·t² rounds as t² + t² + t²).
enum GreyMetric: ColourMetric {
  @inline(__always)
  static func centre(_ pointer: UnsafePointer<Double>) -> Double { pointer[0] }

  @inline(__always)
  static func squared(
    planes: UnsafePointer<Double>, pixel p: Int, centre: Double, context: MetricContext
  ) -> Double {
    let t = planes[p] - centre
    return context.weight * (t * t)
  }

  @inline(__always)
  static func squaredPair(
    planes: UnsafePointer<Double>, pixel p: Int, centre: Double, context: MetricContext
  ) -> SIMD2<Double> {
    let t = loadPair(planes + p) - SIMD2(repeating: centre)
    return SIMD2(repeating: context.weight) * (t * t)
  }

  @inline(__always)
  static func lowerBound(box: SIMD8<Double>, centre: Double, context: MetricContext) -> Double {
    let t = distanceToInterval(low: box[0], high: box[4], centre: centre)
    return context.weight * (t * t)
  }
}

/// Three channels weighted once: ((t0² + t1²) + t2²).
enum RGBMetric: ColourMetric {
  @inline(__always)
  static func centre(_ pointer: UnsafePointer<Double>) -> SIMD4<Double> {
    SIMD4(pointer[0], pointer[1], pointer[2], 0)
  }

  @inline(__always)
  static func squared(
    planes: UnsafePointer<Double>, pixel p: Int, centre: SIMD4<Double>, context: MetricContext
  ) -> Double {
    let n = context.pixelCount
    let t0 = planes[p] - centre[0]
    let t1 = planes[n &+ p] - centre[1]
    let t2 = planes[2 &* n &+ p] - centre[2]
    return (t0 * t0 + t1 * t1) + t2 * t2
  }

  @inline(__always)
  static func squaredPair(
    planes: UnsafePointer<Double>, pixel p: Int, centre: SIMD4<Double>, context: MetricContext
  ) -> SIMD2<Double> {
    let n = context.pixelCount
    let t0 = loadPair(planes + p) - SIMD2(repeating: centre[0])
    let t1 = loadPair(planes + (n &+ p)) - SIMD2(repeating: centre[1])
    let t2 = loadPair(planes + (2 &* n &+ p)) - SIMD2(repeating: centre[2])
    return (t0 * t0 + t1 * t1) + t2 * t2
  }

  @inline(__always)
  static func lowerBound(box: SIMD8<Double>, centre: SIMD4<Double>, context: MetricContext)
    -> Double
  {
    let t0 = distanceToInterval(low: box[0], high: box[4], centre: centre[0])
    let t1 = distanceToInterval(low: box[1], high: box[5], centre: centre[1])
    let t2 = distanceToInterval(low: box[2], high: box[6], centre: centre[2])
    return (t0 * t0 + t1 * t1) + t2 * t2
  }
}

/// Any channel count, weighted once.
enum AnyMetric: ColourMetric {
  @inline(__always)
  static func centre(_ pointer: UnsafePointer<Double>) -> UnsafePointer<Double> { pointer }

  @inline(__always)
  static func squared(
    planes: UnsafePointer<Double>, pixel p: Int, centre: UnsafePointer<Double>,
    context: MetricContext
  ) -> Double {
    var sum = 0.0
    for c in 0..<context.channels {
      let t = planes[c &* context.pixelCount &+ p] - centre[c]
      sum += t * t
    }
    return context.weight * sum
  }

  @inline(__always)
  static func squaredPair(
    planes: UnsafePointer<Double>, pixel p: Int, centre: UnsafePointer<Double>,
    context: MetricContext
  ) -> SIMD2<Double> {
    var sum = SIMD2<Double>()
    for c in 0..<context.channels {
      let t = loadPair(planes + (c &* context.pixelCount &+ p)) - SIMD2(repeating: centre[c])
      sum += t * t
    }
    return SIMD2(repeating: context.weight) * sum
  }

  /// 0: boxes hold at most four channels, and this metric is rarely used.
  @inline(__always)
  static func lowerBound(
    box: SIMD8<Double>, centre: UnsafePointer<Double>, context: MetricContext
  ) -> Double {
    0
  }
}

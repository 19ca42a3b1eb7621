import GlimpseCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Implementation notes
// 1. The constants are scikit-image's `rgb2lab` defaults (illuminant D65, 2° observer): the
//    sRGB companding of `rgb2xyz` (easyrgb.com's formulas, no ×100), its `xyz_from_rgb` matrix,
//    the white point (0.95047, 1, 1.08883) and the CIE 1976 function with 0.008856 and 7.787.
//    Users compare our superpixels with scikit-image's, so we follow it, not the exact CIE
//    values (6/29)³ and 841/108.
// 2. Images read from 8-bit files hold at most 256 distinct values per channel, so the
//    companding `pow` (the costliest step) goes through a small exact cache keyed by the value's
//    bits: a hit returns the very number `pow` returned before, so results do not change.
// 3. scikit-image multiplies by the matrix with NumPy's `@`, which may round differently in the
//    last bit; labels are compared by the adjusted Rand index, which such bits do not move.
// 4. Pixels are converted two at a time, in `SIMD2` lanes doing each pixel's scalar operations
//    in the same order, so the planes are bit for bit those of one pixel at a time (tested);
//    the six divisions per pixel, the costliest operations left, go two per instruction.

/// scikit-image's RGB → CIE Lab conversion, on planar images.
enum CIELab {
  /// scikit-image's `xyz_from_rgb` (sRGB primaries, D65), row-major.
  static let m00 = 0.412453, m01 = 0.357580, m02 = 0.180423
  static let m10 = 0.212671, m11 = 0.715160, m12 = 0.072169
  static let m20 = 0.019334, m21 = 0.119193, m22 = 0.950227
  /// scikit-image's D65 2° reference white, `xyz_tristimulus_values("D65", "2")`.
  static let whiteX = 0.95047, whiteY = 1.0, whiteZ = 1.08883

  /// Lab planes `[L, a, b]` of RGB planes, or of a grey plane read as `(g, g, g)`.
  /// - Parameters:
  ///   - rgb: `[3 or 1, pixelCount]`, planar.
  ///   - grey: whether `rgb` is one grey plane.
  /// - Returns: `[3, pixelCount]`, planar.
  static func planes(fromRGBPlanes rgb: [Double], pixelCount: Int, grey: Bool) -> [Double] {
    var result = [Double](repeating: 0, count: 3 * pixelCount)
    rgb.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        guard let input = source.baseAddress, let output = target.baseAddress else { return }
        let red = input
        let green = grey ? input : input + pixelCount
        let blue = grey ? input : input + 2 * pixelCount
        // Conversion is per pixel, so any split into chunks gives the same planes.
        let parts = pixelCount >= 1 << 14 ? Parallelism.threadCount * 4 : 1
        let chunks = contiguousChunks(of: pixelCount, parts: parts)
        _ = parallelMap(chunks.count) { index in
          var cache = CompandingCache()
          // Two pixels at a time: the same operations lane by lane, the divisions paired.
          var p = chunks[index].lowerBound
          while p + 1 < chunks[index].upperBound {
            let r = SIMD2(cache.linear(red[p]), cache.linear(red[p + 1]))
            let g = SIMD2(cache.linear(green[p]), cache.linear(green[p + 1]))
            let b = SIMD2(cache.linear(blue[p]), cache.linear(blue[p + 1]))
            let (l, a, bb) = Self.lab(linearRed: r, green: g, blue: b)
            (output[p], output[p + 1]) = (l[0], l[1])
            (output[pixelCount + p], output[pixelCount + p + 1]) = (a[0], a[1])
            (output[2 * pixelCount + p], output[2 * pixelCount + p + 1]) = (bb[0], bb[1])
            p += 2
          }
          if p < chunks[index].upperBound {
            let r = cache.linear(red[p])
            let g = cache.linear(green[p])
            let b = cache.linear(blue[p])
            let (l, a, bb) = Self.lab(linearRed: r, green: g, blue: b)
            output[p] = l
            output[pixelCount + p] = a
            output[2 * pixelCount + p] = bb
          }
          return 0
        }
      }
    }
    return result
  }

  /// sRGB companding inverted, `rgb2xyz`'s first step.
  @inline(__always)
  static func linearize(_ v: Double) -> Double {
    v > 0.04045 ? pow((v + 0.055) / 1.055, 2.4) : v / 12.92
  }

  /// Lab of one pixel from linear RGB.
  @inline(__always)
  static func lab(linearRed r: Double, green g: Double, blue b: Double) -> (Double, Double, Double)
  {
    let x = (r * m00 + g * m01 + b * m02) / whiteX
    let y = (r * m10 + g * m11 + b * m12) / whiteY
    let z = (r * m20 + g * m21 + b * m22) / whiteZ
    let fx = f(x)
    let fy = f(y)
    let fz = f(z)
    return (116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz))
  }

  /// `lab(linearRed:green:blue:)` of two pixels, lane by lane the same operations.
  @inline(__always)
  static func lab(linearRed r: SIMD2<Double>, green g: SIMD2<Double>, blue b: SIMD2<Double>)
    -> (SIMD2<Double>, SIMD2<Double>, SIMD2<Double>)
  {
    let x = (r * m00 + g * m01 + b * m02) / whiteX
    let y = (r * m10 + g * m11 + b * m12) / whiteY
    let z = (r * m20 + g * m21 + b * m22) / whiteZ
    let fx = f(x)
    let fy = f(y)
    let fz = f(z)
    return (116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz))
  }

  /// `xyz2lab`'s nonlinearity.
  @inline(__always)
  static func f(_ t: Double) -> Double {
    t > 0.008856 ? cubeRoot(t) : 7.787 * t + 16.0 / 116.0
  }

  /// `f` of two values: the cube roots side by side when both take them, else one by one.
  @inline(__always)
  static func f(_ t: SIMD2<Double>) -> SIMD2<Double> {
    guard all((t .> 0.008856) .& (t .< .infinity)) else { return SIMD2(f(t[0]), f(t[1])) }
    return cubeRoot(t)
  }

  /// The cube root of a positive number, glibc's `cbrt` (sysdeps/ieee754/dbl-64/s_cbrt.c)
  /// operation for operation with its `frexp` and `ldexp` calls done on the bits, so it can be
  /// inlined: three calls per pixel were a third of the conversion. The result is bit for bit
  /// glibc's (checked against it on a sweep of (0.008856, 1.2], the range `f` feeds it, in
  /// the tests); other C libraries' `cbrt` may differ from it in the last bit, as they may from
  /// NumPy's. Zero, subnormals, infinities and NaN go to `cbrt`.
  @inline(__always)
  static func cubeRoot(_ x: Double) -> Double {
    let bits = x.bitPattern
    let biased = Int(truncatingIfNeeded: bits >> 52)  // the sign bit is 0 when x > 0
    guard x > 0, biased > 0, biased < 0x7FF else { return cbrt(x) }
    // frexp: x = xm · 2^xe with xm in [0.5, 1).
    let xe = biased - 1022
    let xm = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | (1022 << 52))
    let u =
      (0.354895765043919860
        + ((1.50819193781584896
          + ((-2.11499494167371287
            + ((2.44693122563534430
              + ((-1.83469277483613086 + (0.784932344976639262 - 0.145263899385486377 * xm)
                * xm)
                * xm))
              * xm))
            * xm))
          * xm))
    let t2 = u * u * u
    // glibc's factor[2 + xe % 3], C's remainder (the sign of xe), read from a vector rather
    // than chosen by a switch: xe varies from pixel to pixel, and the switch's branches
    // mispredicted.
    let factors = SIMD8<Double>(
      1.0 / 1.5874010519681994748, 1.0 / 1.2599210498948731648, 1.0, 1.2599210498948731648,
      1.5874010519681994748, 1, 1, 1)
    let factor = factors[2 &+ xe % 3]
    let ym = u * (t2 + 2.0 * xm) / (2.0 * t2 + xm) * factor
    // ldexp(ym, xe / 3): |xe / 3| ≤ 341, and ym is in [0.5, 2), so the product is a normal
    // number and the scaling is exact.
    return ym * Double(bitPattern: UInt64(1023 + xe / 3) << 52)
  }

  /// `cubeRoot` of two positive normal numbers, lane by lane the same operations (the
  /// exponent's parts are taken lane by lane as integers).
  @inline(__always)
  static func cubeRoot(_ x: SIMD2<Double>) -> SIMD2<Double> {
    let bits = SIMD2<UInt64>(x[0].bitPattern, x[1].bitPattern)
    let mantissas = (bits & 0x000F_FFFF_FFFF_FFFF) | (1022 << 52)
    let xm = SIMD2(Double(bitPattern: mantissas[0]), Double(bitPattern: mantissas[1]))
    let xe0 = Int(truncatingIfNeeded: bits[0] >> 52) - 1022
    let xe1 = Int(truncatingIfNeeded: bits[1] >> 52) - 1022
    // The polynomial of the scalar version, innermost term first.
    var u = 0.784932344976639262 - 0.145263899385486377 * xm
    u = -1.83469277483613086 + u * xm
    u = 2.44693122563534430 + u * xm
    u = -2.11499494167371287 + u * xm
    u = 1.50819193781584896 + u * xm
    u = 0.354895765043919860 + u * xm
    let t2 = u * u * u
    let factors = SIMD8<Double>(
      1.0 / 1.5874010519681994748, 1.0 / 1.2599210498948731648, 1.0, 1.2599210498948731648,
      1.5874010519681994748, 1, 1, 1)
    let factor = SIMD2(factors[2 &+ xe0 % 3], factors[2 &+ xe1 % 3])
    let ym = u * (t2 + 2.0 * xm) / (2.0 * t2 + xm) * factor
    return ym
      * SIMD2(
        Double(bitPattern: UInt64(1023 + xe0 / 3) << 52),
        Double(bitPattern: UInt64(1023 + xe1 / 3) << 52))
  }
}

/// A two-way set-associative memo of `CIELab.linearize`, keyed by the exact bits of its
/// argument.
///
/// Two ways, because a direct-mapped table let two levels that share a slot evict each other
/// pixel after pixel (a tenth of the lookups on the photo called `pow`).
struct CompandingCache {
  private static let bits = 11
  private var keys: [UInt64]
  private var results: [Double]

  init() {
    // Every slot starts as the valid entry for 0.0, so a lookup never needs a validity flag.
    keys = [UInt64](repeating: (0.0 as Double).bitPattern, count: 2 << Self.bits)
    results = [Double](repeating: CIELab.linearize(0), count: 2 << Self.bits)
  }

  /// `CIELab.linearize(v)`, from the memo when `v` was seen before.
  @inline(__always)
  mutating func linear(_ v: Double) -> Double {
    let key = v.bitPattern
    let slot =
      2 &* Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - Self.bits))
    if keys[slot] == key { return results[slot] }
    if keys[slot &+ 1] == key { return results[slot &+ 1] }
    let result = CIELab.linearize(v)
    // The newest entry takes the first way, the one it displaces the second.
    keys[slot &+ 1] = keys[slot]
    results[slot &+ 1] = results[slot]
    keys[slot] = key
    results[slot] = result
    return result
  }
}

import Testing

@testable import GlimpseSegmentation

#if canImport(Glibc)
  import Glibc
#endif

@Suite("CIE Lab cube root")
struct CIELabCubeRootTests {
  #if canImport(Glibc)
    @Test("is glibc's cbrt bit for bit on the range the Lab conversion feeds it, and beyond")
    func matchesGlibc() {
      // `f` takes cube roots of t in (0.008856, ~1.0001] (X/Xn, Y/Yn, Z/Zn of [0, 1] RGB): an
      // even sweep of 2 million values, every 8-bit grey level's Y, and a coarse sweep of
      // other magnitudes in all three exponent residues.
      var mismatches: [Double] = []
      let count = 2_000_000
      for i in 0...count {
        let t = 0.008856 + (1.2 - 0.008856) * Double(i) / Double(count)
        if CIELab.cubeRoot(t) != cbrt(t) { mismatches.append(t) }
      }
      for level in 0...255 {
        let t = CIELab.linearize(Double(level) / 255)
        if CIELab.cubeRoot(t) != cbrt(t) { mismatches.append(t) }
      }
      var t = 1e-300
      while t < 1e300 {
        if CIELab.cubeRoot(t) != cbrt(t) { mismatches.append(t) }
        t *= 1.37
      }
      for special in [0.0, 5e-324, 1e-310, .infinity, -1.0, .nan] where !special.isNaN {
        if CIELab.cubeRoot(special) != cbrt(special) { mismatches.append(special) }
      }
      #expect(CIELab.cubeRoot(.nan).isNaN)
      #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
  #endif

  @Test("two pixels at a time give each pixel's Lab bit for bit")
  func pairsMatchSinglePixels() {
    // Every 8-bit level's linear value against a spread of others: pairs whose lanes both
    // take cube roots, pairs with one dark lane (the linear part of `f`) or a zero, and both.
    let levels = (0...255).map { CIELab.linearize(Double($0) / 255) }
    var mismatches = 0
    for (i, red) in levels.enumerated() {
      for j in stride(from: 0, to: 256, by: 7) {
        let other = (levels[j], levels[(j + i) % 256], levels[(3 * j + 5 * i) % 256])
        let pair = CIELab.lab(
          linearRed: SIMD2(red, other.0), green: SIMD2(levels[(i + 17) % 256], other.1),
          blue: SIMD2(levels[(7 * i) % 256], other.2))
        let first = CIELab.lab(
          linearRed: red, green: levels[(i + 17) % 256], blue: levels[(7 * i) % 256])
        let second = CIELab.lab(linearRed: other.0, green: other.1, blue: other.2)
        for (lane, single) in [first, second].enumerated()
        where pair.0[lane].bitPattern != single.0.bitPattern
          || pair.1[lane].bitPattern != single.1.bitPattern
          || pair.2[lane].bitPattern != single.2.bitPattern
        {
          mismatches += 1
        }
      }
    }
    #expect(mismatches == 0)
  }
}

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
}

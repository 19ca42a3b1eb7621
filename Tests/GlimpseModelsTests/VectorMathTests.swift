import CKernels
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Vector exp and log in single precision (CKernels), against libm in Double")
struct VectorMathTests {
  /// The variants this CPU runs: the baseline, and AVX2 with FMA where supported.
  static let variants: [glimpse_kernel_variant] =
    glimpse_kernel_avx2_fma_supported() != 0
    ? [glimpse_kernel_baseline, glimpse_kernel_avx2_fma] : [glimpse_kernel_baseline]

  @Test("exp is within 2 ulp of Float over [−87, 88], on 200 003 points (not a multiple of 8)")
  func expIsAccurate() {
    let count = 200_003
    // Float(88) and below: 175 · i / (count − 1) − 87 can round just past 88.
    let arguments = (0..<count).map { min(88, -87 + 175 * Float($0) / Float(count - 1)) }
    for variant in Self.variants {
      var values = arguments
      values.withUnsafeMutableBufferPointer { glimpse_exp_f32($0.baseAddress, count, variant) }
      var worst = 0.0
      for (x, y) in zip(arguments, values) {
        let exact = exp(Double(x))
        worst = max(worst, abs(Double(y) - exact) / exact)
      }
      // 2 ulp of Float: 2 · 2⁻²⁴ relative.
      #expect(worst <= 2 * 0x1p-24, "variant \(variant.rawValue): \(worst)")
    }
  }

  @Test("exp(0) is exactly 1, and arguments beyond [−87, 88] are clamped, never inf or 0")
  func expEndpoints() {
    for variant in Self.variants {
      var values: [Float] = [0, -1000, 1000, -.infinity]
      values.withUnsafeMutableBufferPointer { glimpse_exp_f32($0.baseAddress, 4, variant) }
      #expect(values[0] == 1)
      #expect(values[1] > 0 && values[1] == values[3] && abs(values[1] - exp(-87)) <= 1e-44)
      #expect(values[2].isFinite && abs(Double(values[2]) / exp(88.0) - 1) <= 1e-6)
    }
  }

  @Test(
    "log is within 2⁻²³ · max(1, |log x|) of the exact value, from 1e-37 to 1e37 and on [0.5, 2]")
  func logIsAccurate() {
    let count = 100_001
    let wide = (0..<count).map { Float(pow(10, -37 + 74 * Double($0) / Double(count - 1))) }
    let near = (0..<count).map { 0.5 + 1.5 * Float($0) / Float(count - 1) }
    for variant in Self.variants {
      for arguments in [wide, near] {
        var values = arguments
        values.withUnsafeMutableBufferPointer {
          glimpse_log_f32($0.baseAddress, arguments.count, variant)
        }
        var worst = 0.0
        for (x, y) in zip(arguments, values) {
          let exact = log(Double(x))
          worst = max(worst, abs(Double(y) - exact) / max(1, abs(exact)))
        }
        #expect(worst <= 0x1p-23, "variant \(variant.rawValue): \(worst)")
      }
      var one: [Float] = [1]
      one.withUnsafeMutableBufferPointer { glimpse_log_f32($0.baseAddress, 1, variant) }
      #expect(one[0] == 0)
    }
  }
}

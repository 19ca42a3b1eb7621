import CKernels
import GlimpseCore
import Testing

@testable import GlimpseModels

/// `glimpse_indirect_conv_f32` (the kernel of `SampleReuse`'s convolutions) against the sum it
/// defines, taken in Double.
@Suite("Indirect convolution (CKernels), against its definition in Double")
struct CKernelsIndirectConvolutionTests {
  /// The variants this CPU runs.
  static let variants = CKernelsConvolutionTests.variants

  /// Items, taps, input channels, output channels; the output channels cover one and two
  /// vectors of 8 and the one-by-one tail, the items every tile height 1–6 and a remainder.
  static let shapes: [(items: Int, taps: Int, channels: Int, outputs: Int)] = [
    (1, 1, 1, 1), (5, 9, 3, 5), (6, 9, 16, 16), (7, 9, 16, 8), (13, 1, 8, 24), (12, 4, 5, 13),
    (19, 9, 32, 40), (3, 9, 64, 64), (0, 9, 4, 8),
  ]

  @Test(
    "every output is bias + Σ taps · weights within 1e-5 relative (tiles of 1–6 items, 1–2 vectors and tails of output channels, padding taps, bias or none, ReLU, Clip)"
  )
  func matchesDefinition() throws {
    var rng = SeededGenerator(seed: 7)
    for variant in Self.variants {
      for (index, shape) in Self.shapes.enumerated() {
        for clamp in [nil, (Float(0), Float.infinity), (Float(-0.2), Float(0.3))]
          as [(Float, Float)?]
        {
          let (t, c, m) = (shape.taps, shape.channels, shape.outputs)
          // A pool of vectors the taps point into, and a zero vector for the padding.
          let pool = (0..<(40 * c)).map { _ in Float(rng.nextUnitDouble() * 2 - 1) }
          let zeros = [Float](repeating: 0, count: c)
          let weights = (0..<(t * c * m)).map { _ in Float(rng.nextUnitDouble() * 2 - 1) }
          let bias = index % 2 == 0 ? (0..<m).map { _ in Float(rng.nextUnitDouble()) } : []
          // Each tap: a vector of the pool, or (one in five) the padding.
          let choices = (0..<(shape.items * t)).map { _ -> Int in
            rng.next() % 5 == 0 ? -1 : Int(rng.next() % 40)
          }
          var output = [Float](repeating: .nan, count: shape.items * m + 3)
          let status = pool.withUnsafeBufferPointer { pool in
            zeros.withUnsafeBufferPointer { zero in
              let taps: [UnsafePointer<Float>?] = choices.map {
                $0 < 0 ? zero.baseAddress! : pool.baseAddress! + $0 * c
              }
              return glimpse_indirect_conv_f32(
                taps, shape.items, t, c, weights, bias.isEmpty ? nil : bias, m,
                clamp == nil ? 0 : 1, clamp?.0 ?? 0, clamp?.1 ?? 0, &output, variant)
            }
          }
          #expect(status == 0)
          var worst = 0.0
          for i in 0..<shape.items {
            for o in 0..<m {
              var sum = bias.isEmpty ? 0 : Double(bias[o])
              for tap in 0..<t where choices[i * t + tap] >= 0 {
                let vector = choices[i * t + tap] * c
                for k in 0..<c {
                  sum += Double(pool[vector + k]) * Double(weights[(tap * c + k) * m + o])
                }
              }
              if let (low, high) = clamp { sum = min(max(sum, Double(low)), Double(high)) }
              let scale = max(1, abs(sum))
              worst = max(worst, abs(Double(output[i * m + o]) - sum) / scale)
            }
          }
          #expect(worst <= 1e-5, "variant \(variant.rawValue), shape \(shape): \(worst)")
          // Nothing written past the outputs.
          #expect(output[(shape.items * m)...].allSatisfy { $0.isNaN })
        }
      }
    }
  }

  @Test("sizes it cannot take are refused with −1 and leave the output untouched")
  func refusesBadSizes() {
    var output: [Float] = [7]
    let weights: [Float] = [1]
    let taps: [UnsafePointer<Float>?] = []
    #expect(
      glimpse_indirect_conv_f32(
        taps, -1, 1, 1, weights, nil, 1, 0, 0, 0, &output, glimpse_kernel_baseline)
        == -1)
    #expect(
      glimpse_indirect_conv_f32(
        taps, 1, 0, 1, weights, nil, 1, 0, 0, 0, &output, glimpse_kernel_baseline)
        == -1)
    #expect(output == [7])
  }
}

import GlimpseCore
import Testing

@testable import GlimpseModels

/// The 2 × 2 max-pool's vector path (four windows at a time) against a scalar reference.
@Suite("MaxPool2D vector path")
struct MaxPoolTests {
  /// Today's scalar rule, window by window: the maximum by `b > a ? b : a` selects, and the
  /// winner is the first of a, b, c equal to it, else d (so a NaN window sends it to d).
  static func reference<Scalar: GEMMScalar>(_ maps: FeatureMaps<Scalar>) -> (
    output: [Scalar], winners: [Int32]
  ) {
    let s = maps.shape
    let (outH, outW) = (s.height / 2, s.width / 2)
    var output: [Scalar] = []
    var winners: [Int32] = []
    for plane in 0..<(s.channels * s.count) {
      for y in 0..<outH {
        for x in 0..<outW {
          let at = plane * s.planeSize + 2 * y * s.width + 2 * x
          let indices = [at, at + 1, at + s.width, at + s.width + 1]
          let (a, b, c, d) = (
            maps.storage[indices[0]], maps.storage[indices[1]], maps.storage[indices[2]],
            maps.storage[indices[3]]
          )
          let upper = b > a ? b : a
          let lower = d > c ? d : c
          let best = lower > upper ? lower : upper
          let k = a == best ? 0 : b == best ? 1 : c == best ? 2 : 3
          output.append(best)
          winners.append(Int32(indices[k]))
        }
      }
    }
    return (output, winners)
  }

  /// Maps whose values come from a set of four (0 and −0 among them), so most windows tie.
  static func tiedMaps<Scalar: GEMMScalar>(
    _: Scalar.Type, height: Int, width: Int, seed: UInt64, nan: Bool
  ) -> FeatureMaps<Scalar> {
    let shape = MapShape(channels: 2, count: 3, height: height, width: width)
    var rng = SeededGenerator(seed: seed)
    let choices: [Scalar] = [0, -0.0, 1, -1]
    let storage = (0..<shape.valueCount).map { _ -> Scalar in
      if nan && Int.random(in: 0..<50, using: &rng) == 0 { return .nan }
      return choices[Int.random(in: 0..<choices.count, using: &rng)]
    }
    return FeatureMaps(shape: shape, storage: storage)
  }

  /// Sign, exponent and significand of each value, so that −0 ≠ 0 and NaN = NaN.
  static func bits<Scalar: GEMMScalar>(_ values: [Scalar]) -> [String] {
    values.map { "\($0.sign) \($0.exponentBitPattern) \($0.significandBitPattern)" }
  }

  static func check<Scalar: GEMMScalar>(_: Scalar.Type, nan: Bool) {
    // Widths 2…19 give 1…9 windows per row: vector groups of four, tails of 0–3, odd columns.
    for width in 2...19 {
      for height in [2, 3, 5, 8] {
        let maps = tiedMaps(
          Scalar.self, height: height, width: width, seed: UInt64(width * 31 + height), nan: nan)
        let expected = reference(maps)
        let pool = MaxPool2D(size: 2)
        let (output, cache) = pool.forward(maps)
        #expect(bits(output.storage) == bits(expected.output), "\(height)×\(width)")
        #expect(cache.winners == expected.winners, "\(height)×\(width)")
        #expect(bits(pool(maps).storage) == bits(expected.output), "\(height)×\(width)")
        if !nan {
          // Without NaN, the rule is PyTorch's: the first maximum in row-major order.
          for (i, winner) in cache.winners.enumerated() {
            #expect(maps.storage[Int(winner)] == output.storage[i])
          }
        }
      }
    }
  }

  @Test(
    "2×2 max-pool values and winners equal the scalar reference on inputs with many ties (Float)")
  func floatWinnersMatchScalarReference() { Self.check(Float.self, nan: false) }

  @Test(
    "2×2 max-pool values and winners equal the scalar reference on inputs with many ties (Double)")
  func doubleWinnersMatchScalarReference() { Self.check(Double.self, nan: false) }

  @Test("2×2 max-pool with NaN inputs keeps the scalar rule: a NaN window's gradient goes to d")
  func nanWindowsMatchScalarReference() {
    Self.check(Float.self, nan: true)
    Self.check(Double.self, nan: true)
  }
}

import GlimpseCore
import Testing

@testable import GlimpseValuation

@Suite("Marginal accumulators: fixed-point sums, merging, mean and standard error")
struct AccumulatorTests {
  @Test(
    "a fixed-point sum of 1000 terms is the same bits in either order and within 1e-12 of the Double sum"
  )
  func fixedPointSumIsOrderIndependent() {
    var rng = SeededGenerator(seed: 3)
    let terms = (0..<1000).map { _ in Double.random(in: -1...1, using: &rng) / 3 }
    var forward = FixedPointSum()
    for term in terms { forward.add(term) }
    var backward = FixedPointSum()
    for term in terms.reversed() { backward.add(term) }
    #expect(forward == backward)
    #expect(abs(forward.value - terms.reduce(0, +)) < 1e-12)
  }

  @Test(
    "merging the accumulators of the even and odd samples equals one accumulator of all samples")
  func mergedHalvesEqualOneAccumulator() {
    var whole = MarginalAccumulator(pointCount: 3)
    var even = MarginalAccumulator(pointCount: 3)
    var odd = MarginalAccumulator(pointCount: 3)
    for sample in 0..<20 {
      for point in 0..<3 {
        let marginal = Double(sample * (point + 1)) / 7 - 1
        whole.add(marginal, to: point)
        if sample.isMultiple(of: 2) {
          even.add(marginal, to: point)
        } else {
          odd.add(marginal, to: point)
        }
      }
    }
    odd.merge(even)
    #expect(odd == whole)
  }

  @Test("mean and standard error of 1, 2, 3, 4 match the closed form: 2.5 and √(5/12)")
  func meanAndStandardErrorMatchClosedForm() {
    var accumulator = MarginalAccumulator(pointCount: 1)
    for sample in [1.0, 2, 3, 4] { accumulator.add(sample, to: 0) }
    #expect(accumulator.values[0] == 2.5)
    // s² = 5/3, standard error = √(s²/4).
    #expect(abs(accumulator.standardErrors[0] - (5.0 / 12).squareRoot()) < 1e-15)
  }
}

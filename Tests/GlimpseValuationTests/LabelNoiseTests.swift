import GlimpseCore
import Testing

@testable import GlimpseValuation

@Suite("Synthetic label noise (LabelNoise.flipped)")
struct LabelNoiseTests {
  @Test("exactly flipCount labels change, each to another class, and the mask says which")
  func flipsChangeExactlyTheMarkedRows() {
    var rng = SeededGenerator(seed: 5)
    let labels = (0..<300).map { $0 % 4 }
    let (noisy, flipped) = LabelNoise.flipped(labels, classCount: 4, flipCount: 30, using: &rng)
    #expect(flipped.count { $0 } == 30)
    for row in labels.indices {
      #expect((noisy[row] != labels[row]) == flipped[row])
      #expect((0..<4).contains(noisy[row]))
    }
  }

  @Test("a flipped label lands on each of the other classes about equally often (3000 flips)")
  func newClassesAreUniform() {
    var rng = SeededGenerator(seed: 9)
    let labels = [Int](repeating: 0, count: 3000)
    let (noisy, _) = LabelNoise.flipped(labels, classCount: 4, flipCount: 3000, using: &rng)
    let counts = (1..<4).map { c in noisy.count { $0 == c } }
    #expect(noisy.count { $0 == 0 } == 0)
    // 1000 expected each; 5 standard deviations of a binomial(3000, 1/3) are ±129.
    #expect(counts.allSatisfy { abs($0 - 1000) < 129 }, "\(counts)")
  }

  @Test("the same seed flips the same rows to the same classes")
  func seededFlipsRepeat() {
    var a = SeededGenerator(seed: 1)
    var b = SeededGenerator(seed: 1)
    let labels = (0..<50).map { $0 % 3 }
    let first = LabelNoise.flipped(labels, classCount: 3, flipCount: 5, using: &a)
    let second = LabelNoise.flipped(labels, classCount: 3, flipCount: 5, using: &b)
    #expect(first.labels == second.labels && first.flipped == second.flipped)
  }
}

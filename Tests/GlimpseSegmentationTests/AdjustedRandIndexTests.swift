import Testing

@Suite("Adjusted Rand index")
struct AdjustedRandIndexTests {
  @Test(
    "equals scikit-learn's adjusted_rand_score",
    arguments: [
      ([0, 0, 1, 1], [0, 0, 1, 2], 0.5714285714285714),
      ([0, 0, 1, 1], [1, 1, 0, 0], 1.0),
      ([0, 0, 0, 0], [0, 1, 2, 3], 0.0),
      ([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 0.07407407407407407),
    ])
  func matchesScikitLearn(a: [Int], b: [Int], expected: Double) {
    #expect(abs(adjustedRandIndex(a, b) - expected) < 1e-12)
  }
}

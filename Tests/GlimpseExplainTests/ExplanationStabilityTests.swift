import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

@Suite("Explanation stability across seeds")
struct ExplanationStabilityTests {
  @Test("the Jaccard index of top sets: |A ∩ B| / |A ∪ B|")
  func jaccard() {
    #expect(ExplanationStability.jaccard([1, 2, 3], [2, 3, 4]) == 0.5)
    #expect(ExplanationStability.jaccard([], []) == 1)
    #expect(ExplanationStability.jaccard([1], [2]) == 0)
  }

  @Test("exhaustive KernelSHAP does not depend on the seed: top-k Jaccard and Spearman are 1")
  func exhaustiveIsStable() {
    let game = KernelSHAPTests.smoothGame(m: 9, seed: 4)
    var explainer = KernelSHAPExplainer()
    explainer.hideColor = .constant(0)
    let runs = (0..<3).map { seed -> ImageExplanation in
      var rng = SeededGenerator(seed: UInt64(seed))
      return explainer.explain(
        game.image, segments: game.segments, labels: [0], using: &rng, predict: game.predict)
    }
    let stability = ExplanationStability(runs, topK: 3)
    #expect(stability.runs == 3 && stability.topK == 3)
    #expect(stability.topKJaccard == 1 && abs(stability.spearman - 1) < 1e-12)
  }

  @Test(
    "LIME with few samples varies with the seed: its stability is below 1 and matches the pairwise mean by hand"
  )
  func limeVaries() {
    let game = KernelSHAPTests.smoothGame(m: 12, seed: 6)
    var lime = LimeImageExplainer()
    lime.hideColor = .constant(0)
    lime.sampleCount = 20
    let runs = (0..<3).map { seed -> ImageExplanation in
      var rng = SeededGenerator(seed: UInt64(seed))
      return lime.explain(
        game.image, segments: game.segments, labels: [0], using: &rng, predict: game.predict)
    }
    let stability = ExplanationStability(runs, topK: 4)
    let tops = runs.map { Set(DeletionInsertionCurves.order($0.weights[0]).prefix(4)) }
    let pairs = [(0, 1), (0, 2), (1, 2)]
    let jaccard =
      pairs.map { ExplanationStability.jaccard(tops[$0.0], tops[$0.1]) }.reduce(0, +) / 3
    let rho =
      pairs.map {
        RankCorrelation.spearman(runs[$0.0].pixelWeights(0), runs[$0.1].pixelWeights(0))
      }.reduce(0, +) / 3
    #expect(abs(stability.topKJaccard - jaccard) < 1e-12)
    #expect(abs(stability.spearman - rho) < 1e-12)
    #expect(stability.spearman < 1)
  }
}

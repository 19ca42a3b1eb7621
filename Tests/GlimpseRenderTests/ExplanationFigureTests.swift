import GlimpseCore
import Testing

@testable import GlimpseRender

@Suite("Explanation figure")
struct ExplanationFigureTests {
  func figure(weight: Double) -> ExplanationFigure {
    let image = Image(shape: ImageShape(height: 2, width: 2), repeating: 0)
    let segments = SegmentMap(width: 2, height: 2, relabeling: [0, 0, 1, 1])
    let column = ExplanationFigure.Column(
      name: "grid:2", segments: segments, firstWeights: [weight, weight, -weight, -weight],
      secondWeights: [0, 0, weight / 2, weight / 2], scores: (1, 1))
    return ExplanationFigure(
      image: image, caption: "", title: "", classNames: ("4", "9"), probabilities: (1, 0),
      columns: [column], combined: ([1, 1, -1, -1], [0, 0, 1, 1]), agreement: nil)
  }

  @Test("combined panels keep full colour once a segmenter's weight reaches a tenth of the scale")
  func strongEvidenceIsNotFaded() {
    let strong = figure(weight: 0.05)  // scale 0.2: 0.05 ≥ 0.02
    #expect(strong.evidenceStrength(strong.columns.map(\.firstWeights)) == 1)
  }

  @Test("noise-level weights (a confident prediction) fade the combined panel in proportion")
  func weakEvidenceFadesInProportion() {
    let weak = figure(weight: 0.001)
    // 0.001 / (0.1 · 0.2) = 0.05 of full colour, not the seed's normalised full colour.
    #expect(abs(weak.evidenceStrength(weak.columns.map(\.firstWeights)) - 0.05) < 1e-12)
    #expect(abs(weak.evidenceStrength(weak.columns.map(\.secondWeights)) - 0.025) < 1e-12)
  }
}

import GlimpseCore
import GlimpseExplain
import GlimpseSegmentation
import Testing

@Suite("LIME with a region of interest (explain --mask)")
struct LimeRegionOfInterestTests {
  /// A 4 × 4 grey image in 2 × 2 grid cells, a mask over the left two cells.
  static let image = Image(
    shape: ImageShape(height: 4, width: 4, channels: 1),
    pixels: (0..<16).map { Double($0) / 15 })
  static let segments = GridSegmenter(cellsPerSide: 2).segment(image)
  static let mask = RegionMask(
    width: 4, height: 4, inside: (0..<16).map { $0 % 4 < 2 })

  @Test(
    "the outside is shown as in the image in every sample and weighs 0; inside segments are perturbed"
  )
  func outsideNeverHidden() {
    var explainer = LimeImageExplainer()
    explainer.sampleCount = 200
    explainer.hideColor = .constant(-1)
    explainer.regionOfInterest = Self.mask
    var rng = SeededGenerator(seed: 3)
    var outsideChanged = false
    var insideHidden = 0
    let explanation = explainer.explain(
      Self.image, segments: Self.segments, labels: [0], using: &rng
    ) { rows in
      for r in 0..<rows.rows {
        for p in 0..<16 {
          if Self.mask.inside[p] {
            if rows[r, p] == -1 { insideHidden += 1 }
          } else if rows[r, p] != Self.image.pixels[p] {
            outsideChanged = true
          }
        }
      }
      // A class whose probability is the mean of the left column and of the right half.
      return Matrix(rows: rows.rows, columns: 2) { r, c in
        let left = (0..<4).map { rows[r, $0 * 4] }.reduce(0, +) / 4
        let right = (0..<8).map { rows[r, ($0 / 2) * 4 + 2 + $0 % 2] }.reduce(0, +) / 8
        let p = 0.5 + 0.2 * left + 0.2 * right
        return c == 0 ? p : 1 - p
      }
    }
    #expect(!outsideChanged)
    #expect(insideHidden > 0)
    // Grid cells: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right; 1 and 3 are outside.
    #expect(explanation.weights[0][1] == 0 && explanation.weights[0][3] == 0)
    #expect(explanation.weights[0][0] > 0.01 && explanation.weights[0][2] > 0.01)
  }
}

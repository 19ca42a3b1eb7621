import GlimpseCore
import GlimpseModels
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

/// P(bright) = the mean pixel: linear in the pixels, so occlusion with 1×1 windows and fill 0
/// gives each pixel's own contribution x / N, the best possible deletion order.
private struct MeanClassifier: Classifier {
  struct Hyperparameters: Codable, Sendable {}
  static let kind = "mean"
  let hyperparameters = Hyperparameters()
  let classNames = ["dark", "bright"]
  let featureCount: Int

  static func fit(
    _ data: Dataset, hyperparameters: Hyperparameters,
    using rng: inout some RandomNumberGenerator, progress: (Double) -> Void
  ) throws(ModelError) -> Self {
    throw .unsuitableData("not trainable")
  }

  init(featureCount: Int) { self.featureCount = featureCount }

  init(archive: ModelArchive) throws(ModelError) { throw .corruptModelFile("not a file model") }

  func archive() -> ModelArchive {
    ModelArchive(
      kind: Self.kind, classNames: classNames, featureCount: featureCount,
      hyperparameters: hyperparameters)
  }

  func predictProbabilities(_ features: Matrix) -> Matrix {
    Matrix(rows: features.rows, columns: 2) { row, column in
      let mean =
        (0..<features.columns).reduce(0.0) { $0 + features[row, $1] } / Double(features.columns)
      return column == 1 ? mean : 1 - mean
    }
  }
}

/// A method that returns a fixed map, or fails.
private struct FixedExplainer: PixelExplainer {
  struct Failure: Error, CustomStringConvertible {
    var description: String { "no gradients for this model" }
  }
  let name: String
  let map: WeightMap?

  func explain(_ image: Image, labels: [Int], classifier: any Classifier) throws -> [WeightMap] {
    guard let map else { throw Failure() }
    return labels.map { _ in map }
  }
}

@Suite("Explainer comparison")
struct ExplainerComparisonTests {
  @Test(
    "methods are ranked by pixel deletion (increasing) and insertion (decreasing) AUC with one fill; on a linear model occlusion's exact contributions rank first on both; a failing method is reported and left out"
  )
  func ranking() {
    let image = byteImage(height: 8, width: 8, channels: 1, seed: 21)
    let model = MeanClassifier(featureCount: 64)
    var occlusion = OcclusionExplainer()
    occlusion.window = .init(height: 1, width: 1)
    occlusion.stride = .init(height: 1, width: 1)
    let reversed = WeightMap(width: 8, height: 8, values: image.pixels.map { -$0 })
    let comparison = ExplainerComparison.compare(
      image, label: 1,
      explainers: [
        FixedExplainer(name: "reversed", map: reversed), occlusion,
        FixedExplainer(name: "gradients", map: nil),
      ], classifier: model, fill: [0])
    #expect(comparison.entries.map(\.name) == ["reversed", "occlusion", "gradients"])
    #expect(comparison.entries[2].failure == "no gradients for this model")
    #expect(comparison.entries[2].curves == nil)
    #expect(comparison.deletionRanking == [1, 0])
    #expect(comparison.insertionRanking == [1, 0])
    // Occlusion's map is x / N per pixel (1×1 windows, fill 0, f = mean).
    let map = comparison.entries[1].map?.values ?? []
    #expect(maxAbsoluteDifference(map, image.pixels.map { $0 / 64 }) < 1e-12)
    // The curves start at f(image) and end at f(all filled) = 0.
    let curves = comparison.entries[1].curves
    let mean = image.pixels.reduce(0, +) / 64
    #expect(abs((curves?.deletion.first ?? 0) - mean) < 1e-12)
    #expect(abs(curves?.deletion.last ?? 1) < 1e-12)
  }
}

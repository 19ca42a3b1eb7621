import GlimpseCore
import GlimpseModels
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

/// The gradient explainers' own properties: Integrated Gradients' completeness, the quadrature
/// rules, the upsampling, channel reductions, and one clear error for every bad input.
@Suite("Gradient explainers")
struct GradientExplainerTests {
  static let shape = ImageShape(height: 16, width: 16, channels: 1)

  static func model() throws -> CNNClassifier {
    try GradientFixtureNetwork.model(.standard, shape)
  }

  static var image: Image {
    Image(shape: shape, eightBitSamples: GradientFixtureNetwork.greyCodes(16).map { UInt8($0) })
  }

  @Test("completeness: Σ IG → s(x) − s(x′) as the steps grow (Sundararajan et al., Prop. 1)")
  func completeness() throws {
    let model = try Self.model()
    var previous = Double.infinity
    for steps in [8, 64, 256] {
      let result = try IntegratedGradientsExplainer(steps: steps).attributions(
        Self.image, labels: [0, 2], model: model)
      for l in 0..<2 {
        // The map's total is the samples' (channels summed), and the delta is its definition.
        let total = result.maps[l].values.reduce(0, +)
        let difference = result.scores[l] - result.baselineScores[l]
        #expect(abs(total - result.samples[l].reduce(0, +)) < 1e-9)
        #expect(abs(result.convergenceDeltas[l] - (total - difference)) < 1e-9)
      }
      let worst = (0..<2).map {
        abs(result.convergenceDeltas[$0]) / abs(result.scores[$0] - result.baselineScores[$0])
      }.max()!
      #expect(worst < previous, "\(steps) steps: relative delta \(worst)")
      previous = worst
    }
    // The integrand jumps where a ReLU or a max-pool switches along the path, so the error falls
    // about as 1/steps, not as fast as Gauss–Legendre's on smooth integrands.
    #expect(previous < 0.02, "256 steps: relative delta \(previous)")
  }

  @Test("Gauss–Legendre nodes and weights integrate polynomials of degree 2n − 1 exactly")
  func gaussLegendre() throws {
    for n in [1, 2, 5, 50] {
      let (alphas, weights) = try #require(IntegrationRule.gaussLegendre.nodes(steps: n))
      #expect(alphas == alphas.sorted() && alphas.allSatisfy { $0 > 0 && $0 < 1 })
      for degree in 0..<(2 * n) {
        let integral = zip(alphas, weights).reduce(0) { sum, node in
          sum + node.1 * (0..<degree).reduce(1.0) { p, _ in p * node.0 }
        }
        #expect(abs(integral - 1 / Double(degree + 1)) < 1e-13, "n \(n) degree \(degree)")
      }
    }
    // numpy's leggauss(2): ±1/√3, weights 1.
    let (two, w2) = try #require(IntegrationRule.gaussLegendre.nodes(steps: 2))
    #expect(abs(two[0] - 0.5 * (1 - 1 / 3.0.squareRoot())) < 1e-15 && abs(w2[0] - 0.5) < 1e-15)
    #expect(IntegrationRule.gaussLegendre.nodes(steps: 0) == nil)
    #expect(IntegrationRule.riemannTrapezoid.nodes(steps: 1) == nil)
    let trapezoid = try #require(IntegrationRule.riemannTrapezoid.nodes(steps: 5))
    #expect(trapezoid.alphas == [0, 0.25, 0.5, 0.75, 1])
    #expect(trapezoid.weights == [0.1, 0.2, 0.2, 0.2, 0.1])
  }

  @Test("upsampling: nearest repeats each value, bilinear keeps constants and interpolates")
  func upsampling() {
    let map = WeightMap(width: 2, height: 1, values: [0, 1])
    let nearest = GradCAMExplainer.upsampled(map, width: 4, height: 2, .nearest)
    #expect(nearest.values == [0, 0, 1, 1, 0, 0, 1, 1])
    // align_corners=False: sources −0.25→0 (clamped), 0.25, 0.75, 1.25→ last.
    let bilinear = GradCAMExplainer.upsampled(map, width: 4, height: 1, .bilinear)
    #expect(bilinear.values == [0, 0.25, 0.75, 1])
    let constant = WeightMap(width: 3, height: 3, values: [Double](repeating: 2, count: 9))
    let up = GradCAMExplainer.upsampled(constant, width: 7, height: 5, .bilinear)
    #expect(up.values.allSatisfy { abs($0 - 2) < 1e-15 })
  }

  @Test("saliency of an RGB image: the sum and the maximum over channels of |∂s/∂x|")
  func channelReductions() throws {
    let shape = ImageShape(height: 40, width: 40, channels: 3)
    let model = try GradientFixtureNetwork.model(.resnet, shape)
    let image = Image(
      shape: shape, eightBitSamples: GradientFixtureNetwork.rgbCodes(40).map { UInt8($0) })
    let sum = try SaliencyExplainer().explain(image, labels: [1], model: model)[0]
    let maximum = try SaliencyExplainer(channelReduction: .maximum).explain(
      image, labels: [1], model: model)[0]
    let signed = try SaliencyExplainer(absolute: false).explain(image, labels: [1], model: model)[0]
    #expect(sum.width == 40 && sum.height == 40)
    #expect(signed.values.contains { $0 < 0 })
    for p in 0..<1600 {
      #expect(maximum.values[p] <= sum.values[p] + 1e-12)
      #expect(sum.values[p] <= 3 * maximum.values[p] + 1e-12)
      #expect(abs(signed.values[p]) <= sum.values[p] + 1e-12)
    }
  }

  @Test("Grad-CAM is rectified by default and its maps are non-negative")
  func gradCAMRectified() throws {
    let model = try Self.model()
    let rectified = try GradCAMExplainer().layerMaps(Self.image, labels: [0, 1, 2], model: model)
    let raw = try GradCAMExplainer(rectified: false).layerMaps(
      Self.image, labels: [0, 1, 2], model: model)
    for (r, s) in zip(rectified, raw) {
      #expect(r.values.allSatisfy { $0 >= 0 })
      #expect(r.values == s.values.map { max($0, 0) })
    }
    #expect(raw.contains { $0.values.contains { $0 < 0 } })
  }

  @Test("bad input is one clear error, never a trap")
  func errors() throws {
    let model = try Self.model()
    let image = Self.image
    let other = Image(shape: ImageShape(height: 8, width: 8, channels: 1), repeating: 0)
    #expect(
      throws: GradientExplanationError.imageShapeMismatch(image: other.shape, model: Self.shape)
    ) {
      try SaliencyExplainer().explain(other, labels: [0], model: model)
    }
    #expect(throws: GradientExplanationError.labelOutOfRange(label: 3, classes: 3)) {
      try GradCAMExplainer().explain(image, labels: [3], model: model)
    }
    #expect(throws: GradientExplanationError.noLabels) {
      try IntegratedGradientsExplainer().explain(image, labels: [], model: model)
    }
    #expect(throws: GradientExplanationError.self) {
      try IntegratedGradientsExplainer(steps: 0).explain(image, labels: [0], model: model)
    }
    #expect(throws: GradientExplanationError.self) {
      try IntegratedGradientsExplainer(baseline: .image(other)).explain(
        image, labels: [0], model: model)
    }
    #expect(throws: GradientExplanationError.self) {
      try IntegratedGradientsExplainer(baseline: .constant(.nan)).explain(
        image, labels: [0], model: model)
    }
    var broken = image
    broken.pixels[5] = .infinity
    #expect(throws: GradientExplanationError.self) {
      try SaliencyExplainer().explain(broken, labels: [0], model: model)
    }
    #expect(throws: GradientExplanationError.self) {
      try GradCAMExplainer(layer: 99).explain(image, labels: [0], model: model)
    }
    // Another kind of model: no gradients, one line naming it.
    var rng = SeededGenerator(seed: 1)
    let data = Dataset(
      features: Matrix(rows: 2, columns: 256, storage: randomValues(512, seed: 3)),
      labels: [0, 1], classNames: ["a", "b"], imageShape: Self.shape, sources: ["p", "q"])
    let knn = try KNearestNeighbors.fit(data, hyperparameters: .init(k: 1), using: &rng) { _ in }
    do {
      _ = try GradCAMExplainer().explain(image, labels: [0], classifier: knn)
      Issue.record("a k-NN model was differentiated")
    } catch {
      #expect(error == .notDifferentiable(kind: KNearestNeighbors.kind))
      #expect(error.description.contains("'\(KNearestNeighbors.kind)'"))
    }
    let maps = try SaliencyExplainer().explain(image, labels: [0], classifier: model)
    #expect(maps.count == 1)
  }
}

import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

/// lime's feature selection and surrogate on fixed neighbourhood data
/// (make_lime_selection_fixtures.py).
// The property names are the fixture's JSON keys.
// swift-format-ignore: AlwaysUseLowerCamelCase
struct FeatureSelectionFixture: Decodable {
  struct Case: Decodable {
    var method: String
    var num_features: Int
    var label: Int
    var selected: [Int]
    var intercept: Double
    var weights: [Double]
    var score: Double
    var local_prediction: Double
  }
  var samples: Int
  var features: Int
  var masks: [Double]
  var targets: [Double]
  var kernel_weights: [Double]
  var cases: [Case]
  struct LarsPath: Decodable {
    var name: String
    var rows: Int
    var columns: Int
    var alphas: [Double]
    var coefficients: [[Double]]
    var drops: Int
    var label: Int?
    var x: [Double]?
    var y: [Double]?
  }
  var lars_paths: [LarsPath]
}

@Suite("LIME feature selection")
struct LimeFeatureSelectionTests {
  let fixtures = TestPaths.fixtures("GlimpseExplainTests")

  @Test(
    "none, auto, highest_weights, forward_selection and lasso_path pick lime's features in lime's order, and the ridge on them matches explain_instance_with_data to 1e-9"
  )
  func matchesLime() throws {
    let f = try loadJSON(
      FeatureSelectionFixture.self, from: fixtures + "/lime_feature_selection.json")
    let design = Matrix(rows: f.samples, columns: f.features, storage: f.masks)
    var checked = 0
    for c in f.cases {
      guard let method = LocalSurrogate.FeatureSelection(rawValue: c.method) else { continue }
      let target = (0..<f.samples).map { f.targets[$0 * 3 + c.label] }
      let (surrogate, selected) = LocalSurrogate.fitSelected(
        features: design, target: target, weights: f.kernel_weights, count: c.num_features,
        method: method)
      let name = "\(c.method) K=\(c.num_features) label \(c.label)"
      #expect(selected == c.selected, "\(name)")
      #expect(maxAbsoluteDifference(surrogate.coefficients[0], c.weights) < 1e-9, "\(name)")
      #expect(abs(surrogate.intercepts[0] - c.intercept) < 1e-9, "\(name)")
      #expect(abs(surrogate.scores[0] - c.score) < 1e-9, "\(name)")
      let allOn = [Double](repeating: 1, count: f.features)
      #expect(abs(surrogate.predict(allOn, target: 0) - c.local_prediction) < 1e-9, "\(name)")
      checked += 1
    }
    #expect(checked == 70)
  }

  @Test(
    "LARS-lasso's knots equal scikit-learn's lars_path(method='lasso') to 1e-9: alphas and coefficients on lime's weighted data and on a path that drops a variable"
  )
  func larsPathMatchesScikitLearn() throws {
    let f = try loadJSON(
      FeatureSelectionFixture.self, from: fixtures + "/lime_feature_selection.json")
    #expect(f.lars_paths.count == 3)
    #expect(f.lars_paths.contains { $0.drops > 0 })
    for p in f.lars_paths {
      let x: Matrix
      let y: [Double]
      if let label = p.label {
        (x, y) = LocalSurrogate.weightedCentred(
          features: Matrix(rows: f.samples, columns: f.features, storage: f.masks),
          target: (0..<f.samples).map { f.targets[$0 * 3 + label] }, weights: f.kernel_weights)
      } else {
        x = Matrix(rows: p.rows, columns: p.columns, storage: p.x ?? [])
        y = p.y ?? []
      }
      let path = LarsLassoPath.compute(features: x, target: y)
      #expect(path.alphas.count == p.alphas.count, "\(p.name)")
      #expect(path.coefficients.count == p.coefficients.count, "\(p.name)")
      guard path.coefficients.count == p.coefficients.count else { continue }
      let scale = p.coefficients.joined().reduce(0) { max($0, abs($1)) }
      #expect(
        maxAbsoluteDifference(path.alphas, p.alphas) < 1e-9 * max(p.alphas[0], 1), "\(p.name)")
      for (knot, expected) in p.coefficients.enumerated() {
        #expect(
          maxAbsoluteDifference(path.coefficients[knot], expected) < 1e-9 * max(scale, 1),
          "\(p.name), knot \(knot)")
        // The support at each knot (what lime reads off the path) is scikit-learn's.
        #expect(
          path.coefficients[knot].map { abs($0) > 1e-12 } == expected.map { abs($0) > 1e-12 },
          "\(p.name), knot \(knot)")
      }
    }
  }

  @Test("without num_features the explainer keeps today's surrogate on every segment")
  func defaultKeepsEverySegment() {
    let game = KernelSHAPTests.smoothGame(m: 9, seed: 2)
    var lime = LimeImageExplainer()
    lime.hideColor = .constant(0)
    lime.sampleCount = 300
    var a = SeededGenerator(seed: 9)
    var b = SeededGenerator(seed: 9)
    let all = lime.explain(
      game.image, segments: game.segments, labels: [0], using: &a, predict: game.predict)
    lime.featureCount = 3
    lime.featureSelection = .highestWeights
    let three = lime.explain(
      game.image, segments: game.segments, labels: [0], using: &b, predict: game.predict)
    #expect(all.weights[0].filter { $0 != 0 }.count == 9)
    #expect(three.weights[0].filter { $0 != 0 }.count == 3)
    // The three kept are the three largest of a near-unpenalised fit, which here are the three
    // largest of the α = 1 fit too.
    let largest = Set(DeletionInsertionCurves.order(all.weights[0].map(abs)).prefix(3))
    #expect(Set(three.weights[0].indices.filter { three.weights[0][$0] != 0 }) == largest)
  }
}

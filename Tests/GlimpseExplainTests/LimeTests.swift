import Foundation
import GlimpseCore
import GlimpseData
import GlimpseSegmentation
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

/// lime's `LimeBase.explain_instance_with_data` on a fixed mask matrix (make_lime_fixtures.py).
// The property names are the fixture's JSON keys.
// swift-format-ignore: AlwaysUseLowerCamelCase
struct SurrogateFixture: Decodable {
  struct Result: Decodable {
    var label: Int
    var intercept: Double
    var weights: [Double]
    var score: Double
    var local_prediction: Double
  }
  var masks: [Double]
  var samples: Int
  var features: Int
  var targets: [Double]
  var distances: [Double]
  var kernel_weights: [Double]
  var results: [Result]
}

@Suite("LIME")
struct LimeTests {
  let fixtures = TestPaths.fixtures("GlimpseExplainTests")

  @Test("the weighted ridge surrogate matches lime's explain_instance_with_data to 1e-6")
  func surrogateMatchesLime() throws {
    let f = try loadJSON(SurrogateFixture.self, from: fixtures + "/lime_surrogate.json")
    let design = Matrix(rows: f.samples, columns: f.features, storage: f.masks)
    let targets = Matrix(rows: f.samples, columns: 3, storage: f.targets)
    // Our kernel weights from the masks equal lime's from scikit-learn's cosine distances.
    let set = PerturbationSet(
      segmentCount: f.features, sampleCount: f.samples, masks: f.masks.map { UInt8($0) })
    #expect(maxAbsoluteDifference(set.kernelWeights(width: 0.25), f.kernel_weights) < 1e-12)
    let surrogate = LocalSurrogate.fit(
      features: design, targets: Matrix(rows: f.samples, columns: 2) { targets[$0, $1] },
      weights: f.kernel_weights, alpha: 1)
    let allOn = [Double](repeating: 1, count: f.features)
    for (k, result) in f.results.enumerated() {
      #expect(maxAbsoluteDifference(surrogate.coefficients[k], result.weights) < 1e-6)
      #expect(abs(surrogate.intercepts[k] - result.intercept) < 1e-6)
      #expect(abs(surrogate.scores[k] - result.score) < 1e-6)
      #expect(abs(surrogate.predict(allOn, target: k) - result.local_prediction) < 1e-6)
    }
  }

  /// A two-class "model" whose first probability is linear in the mean value of each segment.
  struct SegmentLinearModel {
    let segments: SegmentMap
    let effects: [Double]
    func probabilities(_ rows: Matrix) -> Matrix {
      let sizes = segments.sizes
      return Matrix(rows: rows.rows, columns: 2) { row, column in
        var p = 0.2
        for (pixel, label) in segments.labels.enumerated() {
          p += effects[Int(label)] * rows[row, pixel] / Double(sizes[Int(label)])
        }
        return column == 0 ? p : 1 - p
      }
    }
  }

  @Test("for a model linear in segment means, LIME's weights recover the per-segment effects")
  func recoversLinearEffects() {
    let shape = ImageShape(height: 12, width: 12)
    let image = Image(shape: shape, pixels: (0..<144).map { 0.3 + 0.5 * Double($0 % 12) / 11 })
    let segments = SegmentMap(
      width: 12, height: 12, relabeling: (0..<144).map { ($0 / 12) / 4 * 3 + ($0 % 12) / 4 })
    let effects: [Double] = [0.05, -0.03, 0.02, 0.0, 0.04, -0.05, 0.01, 0.03, -0.02]
    let model = SegmentLinearModel(segments: segments, effects: effects)
    var explainer = LimeImageExplainer()
    explainer.hideColor = .constant(0)  // hidden segments have mean 0: the effect is c_s · mean_s
    var rng = SeededGenerator(seed: 1)
    let explanation = explainer.explain(image, segments: segments, labels: [0, 1], using: &rng) {
      model.probabilities($0)
    }
    let means = (0..<9).map { s in
      segments.labels.enumerated().filter { $0.element == s }.reduce(0.0) {
        $0 + image.pixels[$1.offset]
      } / 16
    }
    let truth = zip(effects, means).map { $0 * $1 }
    // The model is exactly linear in the mask, so only the ridge penalty (α = 1 against a
    // weighted Gram matrix of order 100) shrinks the weights: well under 5 % of 0.05.
    #expect(maxAbsoluteDifference(explanation.weights[0], truth) < 2e-3)
    #expect(maxAbsoluteDifference(explanation.weights[1], truth.map { -$0 }) < 2e-3)
    #expect(explanation.scores[0] > 0.99)
    #expect(
      abs(
        explanation.probabilities[0]
          - model.probabilities(Matrix(rows: 1, columns: 144, storage: image.pixels))[0, 0]) < 1e-12
    )
  }

  @Test("every segment is perturbed (lime never hides scikit-image's last SLIC segment)")
  func everySegmentPerturbed() {
    var rng = SeededGenerator(seed: 2)
    let set = PerturbationSet(segmentCount: 5, sampleCount: 200, using: &rng)
    #expect(
      (0..<5).allSatisfy { s in
        (0..<5).contains { _ in true } && (1..<200).contains { set.masks[$0 * 5 + s] == 0 }
      })
    #expect(set.masks.prefix(5).allSatisfy { $0 == 1 })
  }

  @Test(
    "the masked form of the perturbations (hidden image + masks · deltas) equals the rendered images"
  )
  func lowRankPerturbations() {
    let image = Image(
      shape: ImageShape(height: 5, width: 4, channels: 3), pixels: randomValues(60, seed: 4))
    let segments = SegmentMap(width: 4, height: 5, relabeling: (0..<20).map { ($0 * 7) % 3 })
    let fill = LimeImageExplainer().fudgedValues(image, segments)
    var rng = SeededGenerator(seed: 5)
    let set = PerturbationSet(segmentCount: segments.count, sampleCount: 12, using: &rng)
    let (base, delta, groups) = PerturbationSet.maskedParts(
      image: image, segments: segments, fill: fill)
    let batch = MaskedBatch(
      base: base, delta: delta, groups: groups, groupCount: 3,
      coefficients: set.coefficients(rows: 2..<12))
    let rendered = set.render(rows: 2..<12, image: image, segments: segments, fill: fill)
    #expect(maxAbsoluteDifference(batch.materialized().storage, rendered.storage) < 1e-12)
  }

  @Test("the fudged image fills each segment with its mean colour")
  func fudgedImage() {
    let image = Image(
      shape: ImageShape(height: 1, width: 4, channels: 2), pixels: [0, 1, 0.2, 1, 0.6, 0, 1, 0])
    let segments = SegmentMap(width: 4, height: 1, relabeling: [0, 0, 1, 1])
    let fill = LimeImageExplainer().fudgedValues(image, segments)
    #expect(maxAbsoluteDifference(fill, [0.1, 1, 0.8, 0]) < 1e-12)
  }

  @Test("same seed, same explanation")
  func reproducible() {
    let image = Image(shape: ImageShape(height: 6, width: 6), pixels: randomValues(36, seed: 3))
    let segments = SegmentMap(width: 6, height: 6, relabeling: (0..<36).map { $0 / 12 })
    let predict: (Matrix) -> Matrix = { rows in
      Matrix(rows: rows.rows, columns: 2) { r, c in
        let m = rows.row(r).reduce(0, +) / 36
        return c == 0 ? m : 1 - m
      }
    }
    var a = SeededGenerator(seed: 9)
    var b = SeededGenerator(seed: 9)
    let first = LimeImageExplainer().explain(
      image, segments: segments, labels: [0], using: &a, predict: predict)
    let second = LimeImageExplainer().explain(
      image, segments: segments, labels: [0], using: &b, predict: predict)
    #expect(first == second)
  }
}

@Suite("Combination across segmenters")
struct CombinationTests {
  struct SpearmanFixture: Decodable {
    var maps: [[Double]]
    var rho: [[Double]]
  }

  @Test("rank correlations with ties match scipy's spearmanr")
  func spearmanMatchesScipy() throws {
    let f = try loadJSON(
      SpearmanFixture.self, from: TestPaths.fixtures("GlimpseExplainTests") + "/spearman.json")
    let maps = f.maps.map { WeightMap(width: 28, height: 1, values: $0) }
    let rho = SegmenterAgreement.rankCorrelations(maps)
    for i in 0..<3 { #expect(maxAbsoluteDifference(rho[i], f.rho[i]) < 1e-12) }
    let mean = (f.rho[0][1] + f.rho[0][2] + f.rho[1][2]) / 3
    #expect(abs((SegmenterAgreement.meanRankCorrelation(maps) ?? 0) - mean) < 1e-12)
  }

  @Test("combining normalises each map, sums, and normalises again (seed's combine_weights)")
  func combineWeights() {
    let a = WeightMap(width: 3, height: 1, values: [2, -1, 0])
    let b = WeightMap(width: 3, height: 1, values: [0, 0.5, -0.25])
    // a/2 = [1, −0.5, 0]; b/0.5 = [0, 1, −0.5]; sum [1, 0.5, −0.5]; max 1.
    #expect(WeightMap.combined([a, b]).values == [1, 0.5, -0.5])
    #expect(WeightMap.combined([WeightMap(width: 2, height: 1, values: [0, 0])]).values == [0, 0])
  }
}

@Suite("Ambiguity")
struct AmbiguityTests {
  struct Split: Decodable { var test: [Int] }

  @Test("on the anchor's SVM probabilities the rule selects exactly the anchor's 37 test digits")
  func anchorAmbiguousDigits() throws {
    let probabilities = try CSVReader.read(
      TestPaths.fixtures("GlimpseModelsTests") + "/anchor_svm_test_proba.csv"
    ).values
    let split = try loadJSON(Split.self, from: TestPaths.samples + "/mnist/split.json")
    let labels = try CSVReader.read(TestPaths.samples + "/mnist/mnist-lbls-mini.csv.bz2").values
    let truth = split.test.map { Int(labels[$0, 0]) }
    // ambiguous_anchor.py applies the rule without the vote check (it has no votes).
    let query = AmbiguityQuery(maximumMargin: 0.5, wrongOnly: true, truthInTopTwo: true)
    let found = AmbiguityFinder.find(
      AmbiguityFinder.rank(probabilities, truth: truth), matching: query)
    #expect(
      found.map(\.row).sorted() == [
        71, 139, 268, 293, 295, 296, 310, 326, 430, 458, 471, 494, 512, 514, 536, 606, 614, 626,
        722,
        738, 743, 744, 745, 748, 785, 807, 809, 822, 840, 856, 903, 913, 927, 938, 951, 966, 970,
      ])
  }

  @Test("the seed rule keeps wrong, close calls whose truth is the runner-up")
  func seedRule() {
    let p = Matrix([
      [0.5, 0.4, 0.1],  // truth 1: wrong, truth second, margin 0.1 → kept
      [0.9, 0.05, 0.05],  // truth 1: margin 0.85 → dropped
      [0.45, 0.45, 0.1],  // tie: first is class 0 (lower index); truth 1 → kept, margin 0
      [0.6, 0.3, 0.1],  // truth 0: right → dropped
      [0.5, 0.4, 0.1],  // like row 0 but the vote says 1 → dropped
      [0.5, 0.1, 0.4],  // truth 1: third → dropped
    ])
    let ranked = AmbiguityFinder.rank(p, truth: [1, 1, 1, 0, 1, 1], votes: [0, 0, 0, 0, 1, 0])
    #expect(ranked[2].first == 0 && ranked[2].second == 1)
    let found = AmbiguityFinder.find(ranked, matching: .seedRule)
    #expect(found.map(\.row) == [2, 0])
    let pair = AmbiguityFinder.find(ranked, matching: AmbiguityQuery(classPair: [2, 0]))
    #expect(pair.map(\.row) == [5])
  }
}

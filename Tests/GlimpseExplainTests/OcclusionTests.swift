import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

/// captum's Occlusion on a fixed network (make_occlusion_fixtures.py).
// The property names are the fixture's JSON keys.
struct OcclusionFixture: Decodable {
  enum Fill: Decodable {
    case constant(Double)
    case mean
    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let value = try? container.decode(Double.self) {
        self = .constant(value)
      } else {
        self = .mean
      }
    }
  }
  struct Case: Decodable {
    var name: String
    var height: Int
    var width: Int
    var channels: Int
    var pixels: [Double]
    var w1: [Double]
    var b1: [Double]
    var w2: [Double]
    var b2: [Double]
    var hidden: Int
    var classes: Int
    var window: [Int]
    var stride: [Int]
    var fill: Fill
    var attributions: [[Double]]

    /// The fixture's network, p = softmax(tanh(x W1 + b1) W2 + b2), on a batch of rows.
    func predict(_ rows: Matrix) -> Matrix {
      let d = rows.columns
      var out = Matrix(rows: rows.rows, columns: classes)
      for r in 0..<rows.rows {
        var h = b1
        for j in 0..<hidden {
          for i in 0..<d { h[j] += rows[r, i] * w1[i * hidden + j] }
          h[j] = tanh(h[j])
        }
        var logits = b2
        for k in 0..<classes {
          for j in 0..<hidden { logits[k] += h[j] * w2[j * classes + k] }
        }
        let top = logits.max() ?? 0
        let e = logits.map { exp($0 - top) }
        let total = e.reduce(0, +)
        for k in 0..<classes { out[r, k] = e[k] / total }
      }
      return out
    }
  }
  var cases: [Case]
}

@Suite("Occlusion")
struct OcclusionTests {
  let fixtures = TestPaths.fixtures("GlimpseExplainTests")

  @Test(
    "equals captum's Occlusion (clipped last windows, strides, constant and channel-mean baselines, grey and colour) to 1e-6 relative"
  )
  func matchesCaptum() throws {
    let f = try loadJSON(OcclusionFixture.self, from: fixtures + "/occlusion.json")
    #expect(f.cases.count == 4)
    for c in f.cases {
      let image = Image(
        shape: ImageShape(height: c.height, width: c.width, channels: c.channels),
        pixels: c.pixels)
      var explainer = OcclusionExplainer()
      explainer.window = .init(height: c.window[0], width: c.window[1])
      explainer.stride = .init(height: c.stride[0], width: c.stride[1])
      switch c.fill {
      case .constant(let value): explainer.fill = .constant(value)
      case .mean: explainer.fill = .imageMean
      }
      explainer.batchSize = 5  // several batches, one partial
      let maps = explainer.explain(image, labels: [0, 1, 2], predict: c.predict)
      for k in 0..<c.classes {
        let scale = c.attributions[k].reduce(0) { max($0, abs($1)) }
        #expect(scale > 1e-4, "\(c.name): the fixture's map is not all zero")
        #expect(
          maxAbsoluteDifference(maps[k].values, c.attributions[k]) <= 1e-6 * scale,
          "\(c.name), class \(k)")
      }
    }
  }

  @Test("window origins follow captum's shift counts ⌈(L − w)/s⌉ + 1, the last one clipped")
  func origins() {
    #expect(OcclusionExplainer.origins(length: 7, window: 3, stride: 3) == [0, 3, 6])
    #expect(OcclusionExplainer.origins(length: 6, window: 3, stride: 3) == [0, 3])
    #expect(OcclusionExplainer.origins(length: 4, window: 8, stride: 2) == [0])
    #expect(OcclusionExplainer.origins(length: 28, window: 4, stride: 2).count == 13)
  }

  /// A "model" that is a linear function of the pixels: f(x) = b + w·x, in column 0.
  static func linear(_ w: [Double], intercept b: Double) -> (Matrix) -> Matrix {
    { rows in
      Matrix(rows: rows.rows, columns: 1) { r, _ in
        b + (0..<rows.columns).reduce(0) { $0 + w[$1] * rows[r, $1] }
      }
    }
  }

  @Test(
    "on a linear model, 1×1 windows with baseline 0 give w·x per pixel (summed over channels), and 2×2 windows with stride 2 give each block's Σ w·x on all its pixels"
  )
  func linearClosedForm() {
    for channels in [1, 3] {
      let image = byteImage(height: 6, width: 8, channels: channels, seed: UInt64(channels))
      let w = randomValues(image.pixels.count, seed: 7).map { $0 - 0.5 }
      let predict = Self.linear(w, intercept: 0.3)
      var explainer = OcclusionExplainer()
      explainer.window = .init(height: 1, width: 1)
      explainer.stride = .init(height: 1, width: 1)
      let single = explainer.explain(image, labels: [0], predict: predict)[0]
      let expected = (0..<(6 * 8)).map { p in
        (0..<channels).reduce(0.0) { $0 + w[p * channels + $1] * image.pixels[p * channels + $1] }
      }
      #expect(maxAbsoluteDifference(single.values, expected) < 1e-12, "C = \(channels)")
      explainer.window = .init(height: 2, width: 2)
      explainer.stride = .init(height: 2, width: 2)
      let blocks = explainer.explain(image, labels: [0], predict: predict)[0]
      for y in 0..<6 {
        for x in 0..<8 {
          let (by, bx) = (y / 2 * 2, x / 2 * 2)
          let block = [(0, 0), (0, 1), (1, 0), (1, 1)].reduce(0.0) {
            $0 + expected[(by + $1.0) * 8 + bx + $1.1]
          }
          #expect(abs(blocks.values[y * 8 + x] - block) < 1e-12)
        }
      }
    }
  }

  @Test("with a stride longer than the window, uncovered pixels get 0 (captum: 0/0)")
  func uncoveredPixels() {
    let image = byteImage(height: 5, width: 5, channels: 1, seed: 3)
    var explainer = OcclusionExplainer()
    explainer.window = .init(height: 1, width: 1)
    explainer.stride = .init(height: 2, width: 2)
    let w = [Double](repeating: 1, count: 25)
    let map = explainer.explain(image, labels: [0], predict: Self.linear(w, intercept: 0))[0]
    #expect(map.values[1] == 0 && map.values[5] == 0)
    #expect(abs(map.values[0] - image.pixels[0]) < 1e-12 && map.values[0] != 0)
  }

  @Test(
    "the image-mean fill is each channel's mean; the automatic window is 1/8 of the shorter side")
  func fillAndWindow() {
    let image = Image(
      shape: ImageShape(height: 1, width: 2, channels: 3), pixels: [0, 0.2, 1, 1, 0.4, 0])
    #expect(
      maxAbsoluteDifference(OcclusionExplainer.Fill.imageMean.values(for: image), [0.5, 0.3, 0.5])
        < 1e-15)
    let photo = Image(shape: ImageShape(height: 224, width: 300, channels: 3), repeating: 0)
    #expect(OcclusionExplainer.automaticWindow(for: photo) == .init(height: 28, width: 28))
    #expect(OcclusionExplainer().geometry(for: photo).stride == .init(height: 14, width: 14))
  }
}

@Suite("Pixel deletion and insertion curves")
struct PixelCurvesTests {
  @Test(
    "for f = b + Σ w·x with fill 0 and the map w·x, every step removes the next s largest contributions: deletion(k) = f(x) − Σ top k·s, insertion(k) = b + Σ top k·s; areas by the trapezoid rule"
  )
  func linearClosedForm() {
    let image = byteImage(height: 9, width: 7, channels: 1, seed: 11)
    let w = randomValues(63, seed: 5).map { $0 - 0.4 }
    let b = 0.2
    let contributions = zip(w, image.pixels).map { $0 * $1 }
    let map = WeightMap(width: 7, height: 9, values: contributions)
    for steps in [4, 32, 63, 100] {
      let curves = DeletionInsertionCurves.measurePixels(
        image, map: map, label: 0, fill: [0], steps: steps, batchSize: 7,
        predict: OcclusionTests.linear(w, intercept: b))
      let s = (63 + steps - 1) / steps
      let sorted = contributions.sorted(by: >)
      let full = b + contributions.reduce(0, +)
      let counts = Array(stride(from: 0, to: 63, by: s)) + [63]
      #expect(curves.fractions == counts.map { Double($0) / 63 }, "steps \(steps)")
      for (point, count) in counts.enumerated() {
        let top = sorted.prefix(count).reduce(0, +)
        #expect(abs(curves.deletion[point] - (full - top)) < 1e-12)
        #expect(abs(curves.insertion[point] - (b + top)) < 1e-12)
      }
      #expect(
        abs(
          curves.deletionArea
            - DeletionInsertionCurves.area(of: curves.deletion, at: curves.fractions))
          < 1e-15)
      // Ordering by the true contributions is the best possible deletion: any other map's
      // deletion area is at least as large.
      let shuffled = WeightMap(width: 7, height: 9, values: randomValues(63, seed: 99))
      let other = DeletionInsertionCurves.measurePixels(
        image, map: shuffled, label: 0, fill: [0], steps: steps,
        predict: OcclusionTests.linear(w, intercept: b))
      #expect(curves.deletionArea <= other.deletionArea + 1e-12)
      #expect(curves.insertionArea >= other.insertionArea - 1e-12)
    }
  }

  @Test("ties are broken by pixel index, and a segment map spread to pixels keeps its order")
  func ties() {
    let map = WeightMap(width: 4, height: 1, values: [1, 2, 2, 1])
    let (groups, stride) = DeletionInsertionCurves.pixelSteps(map, steps: 4)
    #expect(stride == 1)
    #expect(groups.labels == [2, 0, 1, 3])
  }
}

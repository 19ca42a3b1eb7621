import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

@Suite("Deletion and insertion curves")
struct DeletionInsertionTests {
  /// An additive model over `m` one-pixel segments: f(z) = b + Σ w_s z_s (pixels 1, fill 0).
  static func additiveGame(_ w: [Double], intercept b: Double) -> CoalitionGame {
    CoalitionGame(m: w.count) { z in b + zip(w, z).reduce(0) { $0 + $1.0 * $1.1 } }
  }

  @Test(
    "for f = b + Σ w·z explained by its own weights, the areas are b + Σ_i w_(i)(i − ½)/M (deletion) and b + Σ_i w_(i)(M − i + ½)/M (insertion)"
  )
  func closedFormAreas() {
    var rng = SeededGenerator(seed: 4)
    for m in [1, 2, 5, 17] {
      let w = (0..<m).map { _ in (rng.nextUnitDouble() - 0.3) / Double(m) }
      let b = 0.25
      let game = Self.additiveGame(w, intercept: b)
      let curves = DeletionInsertionCurves.measure(
        game.image, segments: game.segments, weights: w, label: 0, hideColor: .constant(0),
        predict: game.predict)
      let sorted = w.sorted(by: >)
      var deletion = b
      var insertion = b
      for (index, weight) in sorted.enumerated() {
        let i = Double(index + 1)
        deletion += weight * (i - 0.5) / Double(m)
        insertion += weight * (Double(m) - i + 0.5) / Double(m)
      }
      #expect(abs(curves.deletionArea - deletion) < 1e-12, "M = \(m)")
      #expect(abs(curves.insertionArea - insertion) < 1e-12, "M = \(m)")
      #expect(curves.deletion.count == m + 1 && curves.insertion.count == m + 1)
      // Deleting by decreasing weight gives a curve whose steps are the sorted weights.
      for k in 1...m {
        #expect(abs(curves.deletion[k - 1] - curves.deletion[k] - sorted[k - 1]) < 1e-12)
      }
    }
  }

  @Test("the curves start and end at f(image) and f(every segment hidden), exactly")
  func endpoints() {
    let game = KernelSHAPTests.nonlinearGame(m: 9, seed: 3)
    let weights = (0..<9).map { Double(($0 * 5) % 9) }
    let curves = DeletionInsertionCurves.measure(
      game.image, segments: game.segments, weights: weights, label: 1, hideColor: .constant(0),
      predict: game.predict)
    let full = game.predict(Matrix(rows: 1, columns: 9, storage: game.image.pixels))[0, 1]
    let hidden = game.predict(Matrix(rows: 1, columns: 9, repeating: 0))[0, 1]
    #expect(curves.deletion.first == full && curves.deletion.last == hidden)
    #expect(curves.insertion.first == hidden && curves.insertion.last == full)
  }

  @Test(
    "with features (a region of interest's segments) only they are removed or added, by weight; the other segments stay shown at every point"
  )
  func featuresOnly() {
    let masks = DeletionInsertionCurves.masks(order: [2, 0], steps: [0, 1, 2], segmentCount: 4)
    #expect(
      masks.masks == [
        1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1,  // deletion: none, 2, then 2 and 0 hidden
        0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1,  // insertion: 1 and 3 always shown
      ])
    let w = [0.1, 0.3, -0.2, 0.4, 0.05]
    let game = Self.additiveGame(w, intercept: 0.2)
    let curves = DeletionInsertionCurves.measure(
      game.image, segments: game.segments, weights: w, label: 0, hideColor: .constant(0),
      features: [0, 2, 4], predict: game.predict)
    // Features by weight: 0 (0.1), 4 (0.05), 2 (−0.2); segments 1 and 3 (0.7) never move.
    let expected = [0.85, 0.75, 0.7, 0.9]
    #expect(maxAbsoluteDifference(curves.deletion, expected) < 1e-12)
    #expect(maxAbsoluteDifference(curves.insertion, [0.9, 1.0, 1.05, 0.85]) < 1e-12)
    #expect(curves.fractions == [0, 1.0 / 3, 2.0 / 3, 1])
  }

  @Test("the segment order is by decreasing weight, ties by segment number")
  func order() {
    #expect(DeletionInsertionCurves.order([0.1, 0.5, -1, 0.5, 0]) == [1, 3, 0, 4, 2])
    #expect(DeletionInsertionCurves.area(of: [1, 0], at: [0, 1]) == 0.5)
    #expect(DeletionInsertionCurves.area(of: [0.3], at: [0]) == 0.3)
    #expect(DeletionInsertionCurves.steps(segmentCount: 5, maxSteps: 32) == [0, 1, 2, 3, 4, 5])
    #expect(DeletionInsertionCurves.steps(segmentCount: 10, maxSteps: 4) == [0, 3, 6, 9, 10])
  }

  @Test(
    "with fewer steps than segments the points are the full curve's points at k = 0, s, 2s, …, M, and the area is their trapezoid over k/M"
  )
  func coarseSteps() {
    var rng = SeededGenerator(seed: 8)
    let w = (0..<10).map { _ in rng.nextUnitDouble() - 0.4 }
    let game = KernelSHAPTests.nonlinearGame(m: 10, seed: 5)
    let fine = DeletionInsertionCurves.measure(
      game.image, segments: game.segments, weights: w, label: 0, hideColor: .constant(0),
      predict: game.predict)
    let coarse = DeletionInsertionCurves.measure(
      game.image, segments: game.segments, weights: w, label: 0, hideColor: .constant(0),
      maxSteps: 4, predict: game.predict)
    let ks = [0, 3, 6, 9, 10]
    #expect(coarse.fractions == ks.map { Double($0) / 10 })
    #expect(coarse.deletion == ks.map { fine.deletion[$0] })
    #expect(coarse.insertion == ks.map { fine.insertion[$0] })
    var area = 0.0
    for i in 1..<ks.count {
      area += (fine.deletion[ks[i - 1]] + fine.deletion[ks[i]]) / 2 * Double(ks[i] - ks[i - 1]) / 10
    }
    #expect(abs(coarse.deletionArea - area) < 1e-12)
  }
}

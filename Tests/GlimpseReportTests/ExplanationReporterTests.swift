import GlimpseCore
import GlimpseExplain
import GlimpseModels
import GlimpseReport
import GlimpseSegmentation
import Testing

@Suite("Explanation reports: figure, sidecar and summary as values")
struct ExplanationReporterTests {
  /// A sidecar with every kind of field: a missing truth, a missing agreement, a repeated seed.
  static let sidecar = ExplanationSidecar(
    glimpseVersion: "0.1.0",
    model: .init(
      path: "models/m.glimpse", sha256: "ab12", kind: "logistic", classNames: ["4", "9"]),
    source: "digits.csv:12", truth: nil, probabilities: ["4": 0.625, "9": 0.375],
    explained: ["4", "9"], seed: 0xFFFF_FFFF_FFFF_FFFF, samples: 500, hideColor: "mean",
    width: 2, height: 1,
    segmenters: [
      .init(
        spec: "grid:2", segmentCount: 2, segments: [0, 1], weights: [[0.5, -0.25], [-0.5, 0.25]],
        intercepts: [0.1, 0.9], r2: [0.75, 0.5], localPredictions: [0.6, 0.4])
    ],
    combined: [[1, -1], [-1, 1]], agreement: [nil, nil], png: "row-12.png")

  @Test("a sidecar read back from its JSON equals the sidecar written")
  func sidecarRoundTrips() throws {
    let bytes = try Self.sidecar.encoded()
    #expect(try ExplanationSidecar.decoded(from: bytes) == Self.sidecar)
    // Keys are sorted, so the same sidecar is the same bytes.
    #expect(try Self.sidecar.encoded() == bytes)
  }

  @Test("the title and summary of a known pair give both classes' probabilities, truth and source")
  func titleAndSummary() {
    let names = ("4", "9")
    let probabilities = (0.62, 0.31)
    #expect(
      ExplanationReporter.title(
        names: names, probabilities: probabilities, truth: "9", source: "digits.csv:12")
        == "62% 4 or 31% 9? truth 9 · digits.csv:12")
    #expect(
      ExplanationReporter.title(
        names: names, probabilities: probabilities, truth: nil, source: "a.png")
        == "62% 4 or 31% 9? · a.png")
    #expect(
      ExplanationReporter.summary(names: names, probabilities: probabilities, agreement: 0.871)
        == "62% 4, 31% 9; segmenter agreement 0.87")
    #expect(
      ExplanationReporter.summary(names: names, probabilities: probabilities, agreement: nil)
        == "62% 4, 31% 9")
  }

  @Test("a tiny image explained twice with the same seed gives the same PNG, sidecar and summary")
  func sameSeedSameReport() throws {
    let reporter = try Self.reporter(seed: 7)
    let image = Self.image(brightLeft: true, level: 0.8)
    let first = try reporter.report(image, source: "tiny.png", shortName: "tiny", truth: "left")
    let second = try reporter.report(image, source: "tiny.png", shortName: "tiny", truth: "left")
    #expect(first.png == second.png)
    #expect(first.sidecar == second.sidecar)
    #expect(first.summary == second.summary)
    #expect(Array(first.png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
    #expect(first.sidecar.explained == ["left", "right"])
    #expect(first.sidecar.segmenters.map(\.spec) == ["grid:2", "grid:4"])
    #expect(
      first.sidecar.hideColor == "mean" && first.sidecar.samples == 50 && first.sidecar.png.isEmpty)
    // Another seed draws other perturbations: the weights change.
    let other = try Self.reporter(seed: 8).report(
      image, source: "tiny.png", shortName: "tiny", truth: "left")
    #expect(other.sidecar.segmenters.map(\.weights) != first.sidecar.segmenters.map(\.weights))
  }

  /// An 8×8 grey image, bright in its left or right half.
  static func image(brightLeft: Bool, level: Double) -> Image {
    let pixels = (0..<64).map { index in (index % 8 < 4) == brightLeft ? level : 0.1 }
    return Image(shape: ImageShape(height: 8, width: 8), pixels: pixels)
  }

  /// A logistic regression that tells left-bright from right-bright images (its fit has no
  /// randomness), explained with two grid segmenters and 50 samples.
  static func reporter(seed: UInt64) throws -> ExplanationReporter {
    let levels = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    let images =
      levels.map { image(brightLeft: true, level: $0) }
      + levels.map { image(brightLeft: false, level: $0) }
    let data = Dataset(
      features: Matrix(images.map(\.pixels)), labels: levels.map { _ in 0 } + levels.map { _ in 1 },
      classNames: ["left", "right"], imageShape: ImageShape(height: 8, width: 8),
      sources: images.indices.map { "row \($0)" })
    let model = try LogisticRegression.fit(data, hyperparameters: .init(), warmStart: nil)
    var explainer = LimeImageExplainer()
    explainer.sampleCount = 50
    let segmenters = try ["grid:2", "grid:4"].map { text throws(SegmenterSpecError) in
      try SegmenterSpec(parsing: text).makeSegmenter()
    }
    return ExplanationReporter(
      model: model, segmenters: segmenters, explainer: explainer, seed: seed,
      modelPath: "tiny.glimpse", modelSHA256: "00", glimpseVersion: "test")
  }
}

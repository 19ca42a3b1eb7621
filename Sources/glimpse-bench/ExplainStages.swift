import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseReport
import GlimpseSegmentation

// The explain stage times, per digit, what `glimpse explain-batch` does for every item (LIME
// with the seed's six segmenters, 500 samples, the figure as PNG bytes, the JSON sidecar), on
// the first test digits of the anchor split, as `.ci/bench_reference_explain.py` times the
// Python loop (lime_image, the anchor's matplotlib figure saved as PNG). Both run the same
// library call (`ExplanationReporter.report`); the command adds reading the image, the
// segmentation cache and the writes. The whole batch of 1000 digits is timed from the shell
// (`.ci/bench-explain.sh`), by the real command.

/// Bench stages for explain-batch's per-item work.
enum ExplainStages {
  /// Digits per timing of `explain-digit-png` (the reference loop takes the same ones).
  static let digits = 10

  /// Every explain stage by name; each returns seconds per digit (the median over
  /// `context.repeats` passes over `digits` digits).
  static var all: [String: (BenchContext) throws -> Double] {
    ["explain-digit-png": explainDigitPNG]
  }

  /// An SVM on the anchor training digits explains the first test digits as `glimpse
  /// explain-batch --samples 500` would: seed 0, the segmenters for 28×28 digits.
  private static func explainDigitPNG(_ context: BenchContext) throws -> Double {
    let (data, split) = try context.digitsAndSplit()
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(
      data.subset(split.train), hyperparameters: .init(), using: &rng)
    let shape = data.imageShape ?? ImageShape(height: 28, width: 28)
    var archive = model.archive()
    archive.imageShape = shape
    var explainer = LimeImageExplainer()
    explainer.sampleCount = 500
    let reporter = ExplanationReporter(
      model: model,
      segmenters: try SegmenterSpec.defaults(for: shape).map { spec throws(SegmenterSpecError) in
        try spec.makeSegmenter()
      },
      explainer: explainer, seed: 0, modelPath: "svm.glimpse",
      modelSHA256: SHA256.hexDigest(archive.encoded()), glimpseVersion: "glimpse-bench")
    let rows = Array(split.test.prefix(digits))
    let images = rows.map { Image(shape: shape, pixels: data.values(ofRow: $0)) }
    let perPass = try context.median {
      for (row, image) in zip(rows, images) {
        let report = try reporter.report(
          image, source: "row-\(row)", shortName: "row-\(row)",
          truth: data.classNames[data.labels[row]])
        _ = try report.sidecar.encoded()
      }
    }
    return perPass / Double(rows.count)
  }
}

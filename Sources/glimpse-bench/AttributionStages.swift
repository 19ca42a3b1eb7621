import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseReport
import GlimpseSegmentation

// Issue #19's stages, side by side on the same digits and SVM as `explain-digit-png`:
// KernelSHAP with 1000 sampled coalitions against LIME with 1000 samples on one segmentation
// (slic:25:0.1, about 20 segments, so KernelSHAP samples rather than enumerates), and the whole
// explain-batch item with and without the deletion/insertion curves, whose ratio is the
// faithfulness overhead.

/// Bench stages for the attribution methods and the faithfulness curves.
enum AttributionStages {
  /// Digits per timing.
  static let digits = 10

  /// Every stage by name; each returns seconds per digit.
  static var all: [String: (BenchContext) throws -> Double] {
    [
      "kernelshap-digit-1000": { try perSegmentation($0, kernelSHAP: true) },
      "lime-digit-1000": { try perSegmentation($0, kernelSHAP: false) },
      "explain-digit-png-no-faithfulness": { try explainItem($0, faithfulness: false) },
      "explain-digit-png-faithfulness": { try explainItem($0, faithfulness: true) },
      "kernelshap-accuracy": kernelSHAPAccuracy,
    ]
  }

  /// Sampled KernelSHAP (2048 coalitions) against exact Shapley values on real model games:
  /// logistic regression on the anchor training digits (a softmax, nonlinear in the pixels),
  /// test digits under slic:25:0.1 with 16 to 20 segments, the explained class the predicted
  /// one. The exact values are KernelSHAP over all 2^M coalitions (Theorem 2; equal to the
  /// Shapley formula by brute force in `KernelSHAPTests`). Prints, per digit, max|φ| and over
  /// 8 seeds the median and largest max|φ̂ − φ| / max|φ| and the smallest Spearman ρ over the
  /// segments that are not dummies (issue #19's bar: 0.04 and 0.95), all with every segment
  /// playing as in shap; then the error of Glimpse's default, where the unchanged segments are
  /// dummies and the others are enumerated. Returns the seconds of one sampled explanation.
  private static func kernelSHAPAccuracy(_ context: BenchContext) throws -> Double {
    let (data, split) = try context.digitsAndSplit()
    let model = try LogisticRegression.fit(
      data.subset(split.train), hyperparameters: .init(), warmStart: nil)
    let shape = data.imageShape ?? ImageShape(height: 28, width: 28)
    let segmenter = try SegmenterSpec(parsing: "slic:25:0.1").makeSegmenter()
    var exhaustive = KernelSHAPExplainer()
    exhaustive.exhaustiveSegmentLimit = 20
    exhaustive.batchSize = 4096
    exhaustive.skipsUnchangedSegments = false
    // The estimator as shap runs it: every segment plays, 2048 sampled coalitions.
    var sampled = KernelSHAPExplainer()
    sampled.exhaustiveSegmentLimit = 0
    sampled.coalitionCount = 2048
    sampled.skipsUnchangedSegments = false
    // Glimpse's default: unchanged segments are dummies (0); the others enumerated up to 14.
    var byDefault = KernelSHAPExplainer()
    byDefault.coalitionCount = 2048
    print(
      "| test row | M | players | max abs phi | median error / max | largest | min Spearman | default: error / max, coalitions |"
    )
    print("|---|---|---|---|---|---|---|---|")
    var times: [Double] = []
    var games = 0
    var within = 0
    for row in split.test where games < 12 {
      let image = Image(shape: shape, pixels: data.values(ofRow: row))
      let segments = segmenter.segment(image)
      guard (16...20).contains(segments.count) else { continue }
      games += 1
      let label = model.predict(
        Matrix(rows: 1, columns: image.pixels.count, storage: image.pixels))[0]
      var none = SeededGenerator(seed: 0)
      let exact = exhaustive.explain(
        image, segments: segments, labels: [label], classifier: model, using: &none
      ).weights[0]
      let scale = exact.reduce(0) { max($0, abs($1)) }
      // A segment of one grey level (the digits' black background) is its own mean fill:
      // hiding it changes nothing, so its Shapley value is exactly 0 (a dummy player), and the
      // ranks among several such zeros are the estimator's noise. ρ is taken over the others.
      var levels = [Set<Double>](repeating: [], count: segments.count)
      for (p, segment) in segments.labels.enumerated() {
        levels[Int(segment)].insert(image.pixels[p])
      }
      let players = levels.indices.filter { levels[$0].count > 1 }
      var errors: [Double] = []
      var rho = 1.0
      for draw in 0..<8 as Range<UInt64> {
        var rng = SeededGenerator(seed: 100 + draw)
        let started = monotonicSeconds()
        let estimate = sampled.explain(
          image, segments: segments, labels: [label], classifier: model, using: &rng
        ).weights[0]
        times.append(monotonicSeconds() - started)
        errors.append(zip(estimate, exact).reduce(0) { max($0, abs($1.0 - $1.1)) } / scale)
        rho = min(
          rho, RankCorrelation.spearman(players.map { estimate[$0] }, players.map { exact[$0] }))
      }
      var seeded = SeededGenerator(seed: 100)
      let glimpse = byDefault.explain(
        image, segments: segments, labels: [label], classifier: model, using: &seeded)
      let defaultError =
        zip(glimpse.weights[0], exact).reduce(0) { max($0, abs($1.0 - $1.1)) } / scale
      errors.sort()
      let median = (errors[3] + errors[4]) / 2
      if median <= 0.04 && rho >= 0.95 { within += 1 }
      print(
        "| \(row) | \(segments.count) | \(players.count) | \(String(format: "%.4f", scale)) | \(String(format: "%.4f", median)) | \(String(format: "%.4f", errors[7])) | \(String(format: "%.3f", rho)) | \(String(format: "%.1e", defaultError)), \(glimpse.sampleCount - 2) |"
      )
    }
    print("\(within) of \(games) games meet both (median error ≤ 0.04·max|φ|, every ρ ≥ 0.95)")
    times.sort()
    return times.isEmpty ? 0 : times[times.count / 2]
  }

  /// The SVM on the anchor training digits, the first test digits and their shape.
  private static func setUp(_ context: BenchContext) throws -> (
    SVMClassifier, [Image], [Int], Dataset, ImageShape
  ) {
    let (data, split) = try context.digitsAndSplit()
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(
      data.subset(split.train), hyperparameters: .init(), using: &rng)
    let shape = data.imageShape ?? ImageShape(height: 28, width: 28)
    let rows = Array(split.test.prefix(digits))
    return (
      model, rows.map { Image(shape: shape, pixels: data.values(ofRow: $0)) }, rows, data, shape
    )
  }

  /// One explanation per digit under slic:25:0.1, 1000 coalitions or samples, two classes.
  private static func perSegmentation(_ context: BenchContext, kernelSHAP: Bool) throws -> Double {
    let (model, images, _, _, _) = try setUp(context)
    let segmenter = try SegmenterSpec(parsing: "slic:25:0.1").makeSegmenter()
    let segmentations = images.map { segmenter.segment($0) }
    var lime = LimeImageExplainer()
    lime.sampleCount = 1000
    var shap = KernelSHAPExplainer()
    shap.coalitionCount = 1000
    shap.exhaustiveSegmentLimit = 0
    let perPass = try context.median {
      for (image, segments) in zip(images, segmentations) {
        var rng = SeededGenerator(seed: 0)
        let e =
          kernelSHAP
          ? shap.explain(
            image, segments: segments, labels: [0, 1], classifier: model, using: &rng)
          : lime.explain(
            image, segments: segments, labels: [0, 1], classifier: model, using: &rng)
        precondition(e.weights.count == 2)
      }
    }
    return perPass / Double(images.count)
  }

  /// `explain-digit-png`'s item (six segmenters, 500 samples, figure and sidecar), with or
  /// without the faithfulness curves.
  private static func explainItem(_ context: BenchContext, faithfulness: Bool) throws -> Double {
    let (model, images, rows, data, shape) = try setUp(context)
    var explainer = LimeImageExplainer()
    explainer.sampleCount = 500
    var reporter = ExplanationReporter(
      model: model,
      segmenters: try SegmenterSpec.defaults(for: shape).map { spec throws(SegmenterSpecError) in
        try spec.makeSegmenter()
      },
      explainer: explainer, seed: 0, modelPath: "svm.glimpse", modelSHA256: "",
      glimpseVersion: "glimpse-bench")
    reporter.measuresFaithfulness = faithfulness
    let perPass = try context.median {
      for (row, image) in zip(rows, images) {
        let report = try reporter.report(
          image, source: "row-\(row)", shortName: "row-\(row)",
          truth: data.classNames[data.labels[row]])
        _ = try report.sidecar.encoded()
      }
    }
    return perPass / Double(images.count)
  }
}

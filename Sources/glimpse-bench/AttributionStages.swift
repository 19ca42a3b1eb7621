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
    ]
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

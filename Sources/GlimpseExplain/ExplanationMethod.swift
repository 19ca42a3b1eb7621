import GlimpseCore
import GlimpseModels
import GlimpseSegmentation

/// Which per-segment attribution an explanation computes: LIME's local surrogate or
/// KernelSHAP's Shapley values. Both use the same segmentations, fills and masked-batch scoring.
public enum ExplanationMethod: Sendable {
  /// LIME (`LimeImageExplainer`).
  case lime(LimeImageExplainer)
  /// KernelSHAP (`KernelSHAPExplainer`).
  case kernelSHAP(KernelSHAPExplainer)

  /// The method's name as the CLI and the sidecar spell it: `lime` or `kernelshap`.
  public var name: String {
    switch self {
    case .lime: "lime"
    case .kernelSHAP: "kernelshap"
    }
  }

  /// The fill of hidden segments.
  public var hideColor: LimeImageExplainer.HideColor {
    switch self {
    case .lime(let explainer): explainer.hideColor
    case .kernelSHAP(let explainer): explainer.hideColor
    }
  }

  /// Rows per classifier call for models that need the images written out.
  public var batchSize: Int {
    switch self {
    case .lime(let explainer): explainer.batchSize
    case .kernelSHAP(let explainer): explainer.batchSize
    }
  }

  /// Explains `image` under one segmentation with a classifier.
  public func explain(
    _ image: Image, segments: SegmentMap, segmenter: SegmenterSpec?, labels: [Int],
    classifier: some Classifier, using rng: inout some RandomNumberGenerator
  ) -> ImageExplanation {
    switch self {
    case .lime(let explainer):
      explainer.explain(
        image, segments: segments, segmenter: segmenter, labels: labels, classifier: classifier,
        using: &rng)
    case .kernelSHAP(let explainer):
      explainer.explain(
        image, segments: segments, segmenter: segmenter, labels: labels, classifier: classifier,
        using: &rng)
    }
  }
}

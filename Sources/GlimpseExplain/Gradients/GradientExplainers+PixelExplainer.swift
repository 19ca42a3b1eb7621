import GlimpseCore
import GlimpseModels

// The gradient maps join the comparison of explainers (`ExplainerComparison`) through
// `PixelExplainer`: their `explain(_:labels:classifier:)` already throws `notDifferentiable`
// for a model without gradients, which the comparison reports as a failed method.

extension GradCAMExplainer: PixelExplainer {
  /// `gradcam`.
  public var name: String { "gradcam" }
}

extension IntegratedGradientsExplainer: PixelExplainer {
  /// `integrated-gradients`.
  public var name: String { "integrated-gradients" }
}

extension SaliencyExplainer: PixelExplainer {
  /// `saliency`.
  public var name: String { "saliency" }
}

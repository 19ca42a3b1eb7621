import ArgumentParser
import GlimpseCore
import GlimpseExplain

extension GradCAMExplainer.Upsampling: ExpressibleByArgument {}
extension IntegrationRule: ExpressibleByArgument {}

/// The gradient maps' settings (`explain --explainer gradcam|integrated-gradients|saliency`,
/// `compare-explainers`); the defaults are the library's (captum's, but for Grad-CAM's
/// bilinear upsampling and ReLU, as the paper draws it).
struct GradientOptions: ParsableArguments {
  @Option(help: "Integrated Gradients: points on the path from the baseline to the image.")
  var igSteps = IntegratedGradientsExplainer().steps

  @Option(
    help: ArgumentHelp(
      "Integrated Gradients: the baseline, black (all 0), mean (the image's mean per channel) or a number in [0, 1].",
      valueName: "black|mean|v"))
  var igBaseline = "black"

  @Option(help: "Integrated Gradients: the integration rule (captum's methods).")
  var igRule = IntegratedGradientsExplainer().rule

  @Option(help: "Grad-CAM: how the last convolution's map is brought to the image's size.")
  var gradcamUpsampling = GradCAMExplainer().upsampling

  func validate() throws {
    guard igSteps >= 1 else { throw ValidationError("--ig-steps must be at least 1") }
    if igBaseline != "black", igBaseline != "mean" {
      guard let value = Double(igBaseline), value.isFinite, (0...1).contains(value) else {
        throw ValidationError("--ig-baseline must be black, mean or a number in [0, 1]")
      }
    }
  }

  /// The Integrated Gradients explainer for `image` (the mean baseline is the image's mean
  /// per channel).
  func integratedGradients(for image: Image) -> IntegratedGradientsExplainer {
    var explainer = IntegratedGradientsExplainer(steps: igSteps, rule: igRule)
    switch igBaseline {
    case "black": explainer.baseline = .zero
    case "mean":
      let means = image.channelMeans
      var mean = image
      for i in mean.pixels.indices { mean.pixels[i] = means[i % image.channels] }
      explainer.baseline = .image(mean)
    default: explainer.baseline = .constant(Double(igBaseline) ?? 0)
    }
    return explainer
  }

  /// The Grad-CAM explainer.
  var gradCAM: GradCAMExplainer { GradCAMExplainer(upsampling: gradcamUpsampling) }

  /// The words for a method's settings in the sidecar and the console.
  func settings(of method: ExplainerName) -> String {
    switch method {
    case .gradcam: "last convolution, \(gradcamUpsampling.rawValue) upsampling, ReLU"
    case .integratedGradients: "\(igSteps) steps (\(igRule.rawValue)) from \(igBaseline)"
    case .saliency: "|gradient| of the logit, channels summed"
    case .lime, .kernelshap, .occlusion: ""
    }
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseExplain
import GlimpseSegmentation

/// How explanations are computed and drawn; shared by the explanation commands.
struct ExplanationOptions: ParsableArguments {
  @Option(
    name: .customLong("segmenter"),
    help: ArgumentHelp(
      "A segmenter spec, repeatable (default: for images up to 32×32 the seed's six, slic:25:0.01 slic:25:0.1 slic:25:1 grid:5 grid:7 grid:11; for larger ones SLIC with 50 and 100 segments (Lab for colour), felzenszwalb:200:0.8:<pixels/500>, quickshift:4:200:0.2 as lime's default, grid:6 and grid:12).",
      valueName: "spec"))
  var segmenterSpecs: [String] = []

  @Option(
    help:
      "How the image is explained: lime (a weighted ridge on random masks), kernelshap (Shapley values; a segment that hiding leaves unchanged gets 0, and every coalition of the others is scored when they are at most 14); explain only: occlusion (a sliding window of fill, see --window), and for Glimpse CNNs gradcam, integrated-gradients (see --ig-steps) or saliency."
  )
  var explainer = ExplainerName.lime

  @Option(
    help:
      "Perturbed samples per segmenter (lime's num_samples); with kernelshap, coalitions sampled for more than 14 segments."
  )
  var samples = 1000

  @Option(
    help:
      "LIME: at most K segments per class get a weight, chosen by --feature-selection (default: every segment)."
  )
  var numFeatures: Int?

  @Option(
    help:
      "LIME: lime's feature selection with --num-features: auto (forward_selection for K ≤ 6, else highest_weights), none, highest_weights, forward_selection, lasso_path."
  )
  var featureSelection = LocalSurrogate.FeatureSelection.auto

  @Flag(
    inversion: .prefixedNo,
    help:
      "Measure each segmenter's deletion and insertion curves (RISE) for the first class: in the sidecar and the figure."
  )
  var faithfulness = true

  @Option(
    help:
      "Explain again with N seeds (seed, seed+1, ...) and report how stable each segmenter's map is: top-5 Jaccard and Spearman ρ, in the sidecar and the summary line (default 1: off)."
  )
  var stability = 1

  @Option(help: "Rows per classifier call.")
  var batchSize = 100

  @Option(help: "Seed for the perturbations.")
  var seed: UInt64 = 0

  @Option(
    help: "Fill of hidden segments: mean (each segment's mean colour, lime's default) or a number.")
  var hideColor = "mean"

  @Option(help: "Explain these two classes instead of the model's first and second, e.g. 4,9.")
  var classes: String?

  @Option(help: "Show images inverted (dark on white): auto (for dark grey images), yes, no.")
  var invert: DatasetSummary.Polarity = .auto

  @Option(
    help:
      "Weight (in probability) drawn at full colour in per-segmenter panels; fixed across images.")
  var weightScale = 0.2

  @Option(
    help: ArgumentHelp(
      "Folder of segmentations reused by later runs on the same image (default: $XDG_CACHE_HOME/glimpse/segments or ~/.cache/glimpse/segments), or 'off'.",
      valueName: "dir|off"))
  var segmentCache: String?

  @Option(
    help: ArgumentHelp(
      "A region of interest: an image the size the model sees (non-zero = inside). SLIC segments only inside it (scikit-image's mask), other segmenters' segments are cut to it; LIME perturbs only the segments inside and keeps the outside as in the image.",
      valueName: "png"))
  var mask: String?

  func validate() throws {
    guard samples >= 2 else { throw ValidationError("--samples must be at least 2") }
    guard stability >= 1 else { throw ValidationError("--stability must be at least 1") }
    if let numFeatures, numFeatures < 1 {
      throw ValidationError("--num-features must be at least 1")
    }
    guard explainer == .lime || numFeatures == nil else {
      throw ValidationError(
        "--num-features is a LIME option; \(explainer.rawValue) does not select segments")
    }
    guard mask == nil || explainer == .lime else {
      throw ValidationError("--mask is a LIME option")
    }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    guard weightScale > 0 else { throw ValidationError("--weight-scale must be > 0") }
    guard hideColor == "mean" || Double(hideColor) != nil else {
      throw ValidationError("--hide-color must be 'mean' or a number")
    }
    guard segmentCache?.isEmpty != true else {
      throw ValidationError("--segment-cache needs a folder or 'off'")
    }
  }

  /// The segmentation cache `--segment-cache` asks for (`nil`: off).
  var segmentationCache: SegmentationCache? { SegmentationCache.resolve(segmentCache) }

  /// The specs given, or the defaults for images of `shape` (the seed's six for digits).
  func specs(for shape: ImageShape?) throws -> [SegmenterSpec] {
    if segmenterSpecs.isEmpty {
      return shape.map(SegmenterSpec.defaults(for:)) ?? SegmenterSpec.seedDefaults
    }
    return try segmenterSpecs.map { spec throws(SegmenterSpecError) in
      try SegmenterSpec(parsing: spec)
    }
  }

  /// The segmenters for images of `shape`, parameters checked.
  func segmenters(for shape: ImageShape?) throws -> [any Segmenter] {
    try specs(for: shape).map { spec throws(SegmenterSpecError) in try spec.makeSegmenter() }
  }

  /// The configured LIME explainer.
  var lime: LimeImageExplainer {
    var explainer = LimeImageExplainer()
    explainer.sampleCount = samples
    explainer.batchSize = batchSize
    explainer.hideColor = hideColor == "mean" ? .segmentMean : .constant(Double(hideColor) ?? 0)
    explainer.featureCount = numFeatures
    explainer.featureSelection = featureSelection
    return explainer
  }

  /// The configured KernelSHAP explainer when `--explainer kernelshap`, else `nil`.
  var kernelSHAP: KernelSHAPExplainer? {
    explainer == .kernelshap ? kernelSHAPExplainer : nil
  }

  /// The KernelSHAP explainer these options configure, whatever `--explainer` says
  /// (`compare-explainers` runs it beside LIME).
  var kernelSHAPExplainer: KernelSHAPExplainer {
    var kernelSHAP = KernelSHAPExplainer()
    kernelSHAP.coalitionCount = samples
    kernelSHAP.batchSize = batchSize
    kernelSHAP.hideColor = lime.hideColor
    return kernelSHAP
  }

  /// The two class indices to explain, when given by name.
  func classPair(_ classNames: [String]) throws -> (Int, Int)? {
    guard let classes else { return nil }
    let names = classes.split(separator: ",").map(String.init)
    let indices = names.compactMap { classNames.firstIndex(of: $0) }
    guard names.count == 2, indices.count == 2 else {
      throw CommandFailure(
        message:
          "--classes \(classes): give two of the model's classes (\(classNames.joined(separator: ", ")))",
        status: 64)
    }
    return (indices[0], indices[1])
  }
}

/// The attribution methods `--explainer` names.
enum ExplainerName: String, ExpressibleByArgument, CaseIterable {
  /// LIME's weighted ridge on random masks.
  case lime
  /// KernelSHAP's Shapley values.
  case kernelshap
  /// Occlusion's sliding window (`OcclusionExplainer`).
  case occlusion
  /// Grad-CAM at the last convolution (`GradCAMExplainer`; Glimpse CNNs only).
  case gradcam
  /// Integrated Gradients from a baseline (`IntegratedGradientsExplainer`; Glimpse CNNs only).
  case integratedGradients = "integrated-gradients"
  /// |∂score/∂pixel| (`SaliencyExplainer`; Glimpse CNNs only).
  case saliency

  /// Whether the method ends in a per-pixel map (explained by `compareExplainers`) rather
  /// than per-segment weights.
  var isPixelMethod: Bool {
    switch self {
    case .lime, .kernelshap: false
    case .occlusion, .gradcam, .integratedGradients, .saliency: true
    }
  }

  /// Whether the method needs a model with gradients (a Glimpse CNN).
  var needsGradients: Bool {
    switch self {
    case .gradcam, .integratedGradients, .saliency: true
    case .lime, .kernelshap, .occlusion: false
    }
  }
}

extension LocalSurrogate.FeatureSelection: ExpressibleByArgument {}

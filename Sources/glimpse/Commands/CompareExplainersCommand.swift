import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseRender
import GlimpseReport
import GlimpseSegmentation

/// `glimpse compare-explainers MODEL (DATA --index i | --image FILE)`: LIME, KernelSHAP,
/// occlusion and, for a Glimpse CNN, the gradient maps on one image, ranked by pixel deletion
/// and insertion AUC.
struct CompareExplainersCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare-explainers",
    abstract:
      "Explain one image with LIME (combined over the segmenters), KernelSHAP (combined), occlusion and, for a Glimpse CNN, Grad-CAM, Integrated Gradients and saliency; rank them by pixel deletion and insertion AUC with one fill; write a PNG, a JSON sidecar and a CSV ranking."
  )

  @Argument(help: "A model file written by glimpse train or import, an .onnx file, or cmd:COMMAND.")
  var modelPath: String
  @OptionGroup var modelSource: ModelSourceOptions

  @OptionGroup var choice: ImageChoice
  @OptionGroup var explanation: ExplanationOptions
  @OptionGroup var occlusion: OcclusionOptions
  @OptionGroup var gradients: GradientOptions

  @Option(
    help: ArgumentHelp(
      "The methods to run, comma-separated, in the figure's order: lime, kernelshap, occlusion, gradcam, integrated-gradients, saliency (default: the first three, and the gradient maps too for a Glimpse CNN).",
      valueName: "list"))
  var methods: String?

  @Option(
    name: .customLong("class"),
    help: "The class to explain, by name (default: the model's most probable class).")
  var className: String?

  @Option(
    help:
      "The PNG to write (default: output/compare-explainers-<name>.png); the sidecar gets .json, the ranking .csv."
  )
  var out: String?

  /// The methods named by `--methods`, or `nil` for the default.
  var methodNames: [ExplainerName]? {
    methods.map { $0.split(separator: ",").compactMap { ExplainerName(rawValue: String($0)) } }
  }

  func validate() throws {
    // A region of interest is LIME's alone; the other methods would perturb the outside.
    guard explanation.mask == nil else {
      throw ValidationError("--mask is an explain (LIME) option, not one of compare-explainers")
    }
    // Both would be silently ignored: the methods come from --methods, and the ranking is the
    // faithfulness curves.
    guard explanation.explainer == .lime else {
      throw ValidationError(
        "--explainer is an explain option; compare-explainers runs the methods --methods lists")
    }
    guard explanation.faithfulness else {
      throw ValidationError(
        "--no-faithfulness: compare-explainers ranks the methods by their deletion and insertion curves"
      )
    }
    guard let methods else { return try validateStability() }
    let names = methods.split(separator: ",").map(String.init)
    guard !names.isEmpty else { throw ValidationError("--methods needs at least one method") }
    for name in names where ExplainerName(rawValue: name) == nil {
      throw ValidationError(
        "--methods: unknown method '\(name)' (known: \(ExplainerName.allCases.map(\.rawValue).joined(separator: ", ")))"
      )
    }
    guard Set(names).count == names.count else {
      throw ValidationError("--methods names a method twice")
    }
    try validateStability()
  }

  private func validateStability() throws {
    guard explanation.stability == 1 else {
      throw ValidationError("--stability: compare-explainers does not rerun the methods")
    }
  }

  func run() throws {
    try compareExplainers(
      modelPath: modelPath, external: modelSource.settings, choice: choice, options: explanation,
      occlusion: occlusion, gradients: gradients, methods: methodNames,
      className: className, prefix: "compare-explainers", out: out)
  }
}

extension CompareExplainersCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath] + choice.inputPaths }
  var outputPaths: [String?] { [out] }
}

/// The methods of a comparison, with their settings in words, in the order asked for.
///
/// Anything conforming to `PixelExplainer` is ranked with the others; a gradient map of a model
/// without gradients fails alone.
func pixelExplainers(
  _ methods: [ExplainerName], options: ExplanationOptions, occlusion: OcclusionOptions,
  gradients: GradientOptions, segmenters: [any Segmenter], image: Image
) -> [(explainer: any PixelExplainer, settings: String)] {
  let segmentation =
    "\(segmenters.count) segmenters (\(segmenters.map(\.spec.description).joined(separator: " ")))"
  return methods.map { method in
    switch method {
    case .lime:
      return (
        CombinedSegmentExplainer(
          method: .lime(options.lime), segmenters: segmenters, seed: options.seed),
        "\(segmentation) × \(options.samples) samples, hide \(options.hideColor)"
      )
    case .kernelshap:
      return (
        CombinedSegmentExplainer(
          method: .kernelSHAP(options.kernelSHAPExplainer), segmenters: segmenters,
          seed: options.seed),
        "\(segmentation), up to \(options.samples) coalitions, hide \(options.hideColor)"
      )
    case .occlusion:
      let explainer = occlusion.explainer(
        hideColor: options.hideColor, batchSize: options.batchSize)
      let (window, stride) = explainer.geometry(for: image)
      return (
        explainer,
        "window \(window.height)×\(window.width), stride \(stride.height)×\(stride.width), fill \(occlusion.fill(hideColor: options.hideColor).text)"
      )
    case .gradcam: return (gradients.gradCAM, gradients.settings(of: method))
    case .integratedGradients:
      return (gradients.integratedGradients(for: image), gradients.settings(of: method))
    case .saliency: return (SaliencyExplainer(), gradients.settings(of: method))
    }
  }
}

/// Runs a comparison of `methods` on the chosen image and writes the PNG, the sidecar (.json)
/// and the ranking (.csv); the body of `compare-explainers` and of `explain --explainer
/// occlusion` (one method).
func compareExplainers(
  modelPath: String, external: ExternalModelSettings, choice: ImageChoice,
  options: ExplanationOptions, occlusion: OcclusionOptions, gradients: GradientOptions,
  methods asked: [ExplainerName]?, className: String?, prefix: String, out: String?
) throws {
  SingleThreadedBLAS.shared.enter()
  defer { SingleThreadedBLAS.shared.leave() }
  let job = try ExplanationJob(
    modelPath: modelPath, options: options, external: external, allowsPixelMethods: true)
  let started = monotonicSeconds()
  if let asked, asked.count == 1, asked[0].needsGradients, !(job.model is CNNClassifier) {
    throw CommandFailure(
      message:
        "--explainer \(asked[0].rawValue): \(modelPath) is a \(type(of: job.model).kind) model; gradient maps need a Glimpse CNN (occlusion, lime and kernelshap explain any model)",
      status: ExitStatus.usage)
  }
  // The default: the model-agnostic three, and the gradient maps when the model has gradients.
  let methods =
    asked
    ?? [.lime, .kernelshap, .occlusion]
    + (job.model is CNNClassifier ? [.gradcam, .integratedGradients, .saliency] : [])
  let (image, source, truth) = try choice.load(for: job, shape: job.archive.imageShape)
  var label: Int?
  if let className {
    guard let index = job.model.classNames.firstIndex(of: className) else {
      throw CommandFailure(
        message:
          "--class \(className): not one of the model's classes (\(job.model.classNames.joined(separator: ", ")))",
        status: ExitStatus.usage)
    }
    label = index
  }
  let segmenters = job.segmentationCache?.segmenters(job.segmenters, for: image) ?? job.segmenters
  let fill = occlusion.fill(hideColor: options.hideColor)
  try checkModelAnswered(job.model)
  var report = try drawing(for: source) { () throws(RenderError) in
    try ExplainerComparisonReport.make(
      image, source: source, shortName: fileStem(source), truth: truth, model: job.model,
      modelFile: .init(
        path: modelPath, sha256: job.modelSHA256, kind: type(of: job.model).kind,
        classNames: job.model.classNames),
      explainers: pixelExplainers(
        methods, options: options, occlusion: occlusion, gradients: gradients,
        segmenters: segmenters, image: image),
      label: label, fill: fill.fill, fillText: fill.text, seed: options.seed,
      glimpseVersion: Glimpse.version, batchSize: options.batchSize,
      inversion: job.reporter.inversion
    ) { print("running \($0)...") }
  }
  try checkModelAnswered(job.model)
  let path =
    out ?? "output/\(prefix)-\(fileStem(source))\(choice.index.map { "-\($0)" } ?? "").png"
  report.sidecar.png = AtomicFile.lastComponent(of: path)
  let stem = path.hasSuffix(".png") ? String(path.dropLast(4)) : path
  // The sidecar and the ranking first: a PNG never exists without them.
  try AtomicFile.write(try report.sidecar.encoded(), to: stem + ".json")
  if methods.count > 1 {
    try AtomicFile.write(Array(report.sidecar.rankingCSV.utf8), to: stem + ".csv")
  }
  try AtomicFile.write(report.png, to: path)
  for line in report.sidecar.rankingLines { print(line) }
  print(
    "explained \(report.sidecar.explained) (\(formatFixed(100 * report.sidecar.probability, digits: 0))%) of \(source) with \(methods.map(\.rawValue).joined(separator: ", ")) in \(formatDuration(monotonicSeconds() - started))"
  )
  print("wrote \(path), \(stem).json" + (methods.count > 1 ? " and \(stem).csv" : ""))
}

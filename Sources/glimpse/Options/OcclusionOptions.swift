import ArgumentParser
import GlimpseCore
import GlimpseExplain

/// Occlusion's window, stride and fill (`explain --explainer occlusion`, `compare-explainers`).
struct OcclusionOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Occlusion: the sliding window, HxW or one side (default: an eighth of the image's shorter side).",
      valueName: "HxW"))
  var window: String?

  @Option(
    help: ArgumentHelp(
      "Occlusion: the step between windows, HxW or one number (default: half the window).",
      valueName: "HxW"))
  var stride: String?

  @Option(
    help: ArgumentHelp(
      "Fill of occluded pixels and of the pixels the faithfulness curves remove: mean (the image's mean per channel) or a number (default: as --hide-color; mean for 'mean').",
      valueName: "mean|v"))
  var occlusionFill: String?

  func validate() throws {
    for (name, value) in [("--window", window), ("--stride", stride)] {
      guard let value else { continue }
      guard Self.extent(value) != nil else {
        throw ValidationError("\(name) \(value): give HxW or one side, each at least 1")
      }
    }
    if let occlusionFill, occlusionFill != "mean", Double(occlusionFill)?.isFinite != true {
      throw ValidationError("--occlusion-fill must be 'mean' or a number")
    }
  }

  /// `4x6` or `4` as an extent of at least 1×1, else `nil`.
  static func extent(_ text: String) -> OcclusionExplainer.Extent? {
    let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
      .map { Int($0) }
    guard parts.count == 1 || parts.count == 2, let height = parts[0],
      let width = parts[parts.count - 1],
      height >= 1, width >= 1
    else { return nil }
    return .init(height: height, width: width)
  }

  /// The fill `--occlusion-fill` (or else `--hide-color`) names, and the words for it.
  func fill(hideColor: String) -> (fill: OcclusionExplainer.Fill, text: String) {
    let given = occlusionFill ?? hideColor
    guard let value = Double(given) else { return (.imageMean, "mean") }
    return (.constant(value), given)
  }

  /// The configured explainer.
  func explainer(hideColor: String, batchSize: Int) -> OcclusionExplainer {
    var explainer = OcclusionExplainer()
    explainer.window = window.flatMap(Self.extent)
    explainer.stride = stride.flatMap(Self.extent)
    explainer.fill = fill(hideColor: hideColor).fill
    explainer.batchSize = batchSize
    return explainer
  }
}

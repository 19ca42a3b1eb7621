import GlimpseCore
import GlimpseModels
import GlimpseSegmentation

/// Any explanation method that ends in a per-pixel map per explained class: the common form in
/// which `ExplainerComparison` ranks segment-level methods (LIME, KernelSHAP, their maps
/// spread to pixels and combined over segmenters) and pixel-level ones (occlusion, gradient
/// maps) on the same deletion and insertion curves.
public protocol PixelExplainer: Sendable {
  /// The method's name in figures, sidecars and rankings (`lime`, `occlusion`, `gradcam`).
  var name: String { get }
  /// Per class of `labels`, a map where larger values mean more evidence for the class.
  /// - Throws: when the method cannot explain this classifier (a gradient map of a model
  ///   without gradients); the comparison then reports the method as failed.
  func explain(_ image: Image, labels: [Int], classifier: any Classifier) throws -> [WeightMap]
}

extension OcclusionExplainer: PixelExplainer {
  /// `occlusion`.
  public var name: String { "occlusion" }

  /// The occlusion maps (`explain(_:labels:classifier:)` with a concrete classifier).
  public func explain(_ image: Image, labels: [Int], classifier: any Classifier) throws
    -> [WeightMap]
  {
    explain(image, labels: labels) { classifier.predictProbabilities($0) }
  }
}

/// LIME or KernelSHAP over several segmenters, combined per pixel (`CombinedExplanation`,
/// `WeightMap.combined`: each segmenter's map normalised, summed, normalised again), as
/// `glimpse explain` combines them.
public struct CombinedSegmentExplainer: PixelExplainer {
  /// The per-segment method.
  public var method: ExplanationMethod
  /// The segmenters whose explanations are combined.
  public var segmenters: [any Segmenter]
  /// The perturbations' seed (segmenter i uses stream i).
  public var seed: UInt64

  /// A combined explainer from its parts.
  public init(method: ExplanationMethod, segmenters: [any Segmenter], seed: UInt64) {
    self.method = method
    self.segmenters = segmenters
    self.seed = seed
  }

  /// The method's name (`lime`, `kernelshap`).
  public var name: String { method.name }

  /// The combined maps, in [−1, 1].
  public func explain(_ image: Image, labels: [Int], classifier: any Classifier) throws
    -> [WeightMap]
  {
    CombinedExplanation.explain(
      image, segmenters: segmenters, labels: labels, method: method, seed: seed,
      classifier: classifier
    ).combined
  }
}

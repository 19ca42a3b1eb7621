import GlimpseCore
import GlimpseModels
import GlimpseSegmentation

/// LIME explanations of one image under several segmentations, and their combination.
public struct CombinedExplanation: Sendable {
  /// One explanation per segmenter, in the order given.
  public var explanations: [ImageExplanation]
  /// The explained classes.
  public var labels: [Int]
  /// Per explained class, the combined per-pixel map in [−1, 1] (`WeightMap.combined`).
  public var combined: [WeightMap]
  /// Per explained class, the mean rank correlation of the segmenters' maps (`nil` for one).
  public var agreement: [Double?]

  /// Explains `image` with every segmenter; segmenter i draws its masks from stream i of a
  /// generator seeded with `seed`, so each explanation can be reproduced on its own. The
  /// segmenters run in parallel (`predict` must be safe to call from several threads).
  public static func explain(
    _ image: Image, segmenters: [any Segmenter], labels: [Int], explainer: LimeImageExplainer,
    seed: UInt64, predict: (Matrix) -> Matrix
  ) -> CombinedExplanation {
    combine(image, segmenters: segmenters, labels: labels, seed: seed) { segments, spec, rng in
      explainer.explain(
        image, segments: segments, segmenter: spec, labels: labels, using: &rng, predict: predict)
    }
  }

  /// Explains `image` with every segmenter and a classifier (perturbations scored as low-rank
  /// batches, see `LimeImageExplainer`).
  public static func explain(
    _ image: Image, segmenters: [any Segmenter], labels: [Int], explainer: LimeImageExplainer,
    seed: UInt64, classifier: any Classifier
  ) -> CombinedExplanation {
    combine(
      image, segmenters: segmenters, labels: labels, seed: seed,
      oneAtATime: classifier.scoresMaskedBatchesOnEveryThread
    ) { segments, spec, rng in
      explainer.explain(
        image, segments: segments, segmenter: spec, labels: labels, classifier: classifier,
        using: &rng)
    }
  }

  /// Explains `image` with every segmenter by `method` and a classifier; with `faithfulness`,
  /// each explanation also gets the deletion and insertion curves of its first class
  /// (`DeletionInsertionCurves`), measured with the method's fill.
  public static func explain(
    _ image: Image, segmenters: [any Segmenter], labels: [Int], method: ExplanationMethod,
    seed: UInt64, classifier: any Classifier, faithfulness: Bool = false
  ) -> CombinedExplanation {
    combine(
      image, segmenters: segmenters, labels: labels, seed: seed,
      oneAtATime: classifier.scoresMaskedBatchesOnEveryThread
    ) { segments, spec, rng in
      var explanation = method.explain(
        image, segments: segments, segmenter: spec, labels: labels, classifier: classifier,
        using: &rng)
      if faithfulness, let first = explanation.weights.first, let label = labels.first {
        // With a region of interest only its segments are removed or added: the outside
        // was never perturbed, so the curves do not ask about it either.
        var features: [Int]? = nil
        if case .lime(let lime) = method, let region = lime.regionOfInterest {
          features = segments.segments(inside: region)
        }
        explanation.faithfulness = DeletionInsertionCurves.measure(
          image, segments: segments, weights: first, label: label, hideColor: method.hideColor,
          classifier: classifier, batchSize: method.batchSize, features: features)
      }
      return explanation
    }
  }

  /// The explanations of every segmenter, side by side on the threads; with `oneAtATime` (a
  /// classifier whose scoring keeps every thread busy) the segmentations side by side, then the
  /// explanations one after another.
  static func combine(
    _ image: Image, segmenters: [any Segmenter], labels: [Int], seed: UInt64,
    oneAtATime: Bool = false,
    explain: (SegmentMap, SegmenterSpec, inout SeededGenerator) -> ImageExplanation
  ) -> CombinedExplanation {
    precondition(!segmenters.isEmpty, "at least one segmenter is needed")
    let root = SeededGenerator(seed: seed)
    // Each segmenter's explanation depends only on its own stream: the same on any core count
    // and in either order.
    let explanations: [ImageExplanation]
    if oneAtATime {
      let segmentations = parallelMap(segmenters.count) { segmenters[$0].segment(image) }
      explanations = segmenters.indices.map { index in
        var rng = root.stream(UInt64(index))
        return explain(segmentations[index], segmenters[index].spec, &rng)
      }
    } else {
      explanations = parallelMap(segmenters.count) { index -> ImageExplanation in
        var rng = root.stream(UInt64(index))
        let segmenter = segmenters[index]
        return explain(segmenter.segment(image), segmenter.spec, &rng)
      }
    }
    let maps = labels.indices.map { k in explanations.map { WeightMap($0, label: k) } }
    return CombinedExplanation(
      explanations: explanations, labels: labels, combined: maps.map(WeightMap.combined),
      agreement: maps.map(SegmenterAgreement.meanRankCorrelation))
  }
}

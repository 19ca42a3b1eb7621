import GlimpseCore
import GlimpseModels

/// Several explanation methods on one image and one class, ranked by how faithful their maps
/// are: each map's pixel deletion and insertion curves (`measurePixels`, RISE §4.1) with one
/// fill for all, so the areas are comparable across methods.
public struct ExplainerComparison: Sendable {
  /// One method's result.
  public struct Entry: Sendable {
    /// The method's name (`PixelExplainer.name`).
    public var name: String
    /// Its map for the explained class, or `nil` when the method failed.
    public var map: WeightMap?
    /// The map's pixel curves, or `nil` when the method failed.
    public var curves: DeletionInsertionCurves?
    /// Why the method failed, when it did.
    public var failure: String?
    /// Seconds the method took to explain (not counting its curves).
    public var seconds: Double
    /// Seconds its deletion and insertion curves took.
    public var curveSeconds = 0.0
  }

  /// The explained class.
  public var label: Int
  /// The fill of removed pixels, per channel.
  public var fill: [Double]
  /// One entry per method, in the order given.
  public var entries: [Entry]

  /// Indices of the entries with curves, best first by deletion area (lower is better); ties
  /// keep the methods' order.
  public var deletionRanking: [Int] {
    entries.indices.filter { entries[$0].curves != nil }.sorted {
      (entries[$0].curves?.deletionArea ?? 0, $0) < (entries[$1].curves?.deletionArea ?? 0, $1)
    }
  }

  /// Indices of the entries with curves, best first by insertion area (higher is better).
  public var insertionRanking: [Int] {
    entries.indices.filter { entries[$0].curves != nil }.sorted {
      (-(entries[$0].curves?.insertionArea ?? 0), $0)
        < (-(entries[$1].curves?.insertionArea ?? 0), $1)
    }
  }

  /// Explains `image` for class `label` with every method in turn and measures each map.
  /// - Parameters:
  ///   - fill: a removed pixel's value in each channel, the same for every method.
  ///   - steps: about this many steps per curve.
  ///   - batchSize: rows per call for models that need the images written out.
  ///   - progress: called with each method's name before it runs.
  public static func compare(
    _ image: Image, label: Int, explainers: [any PixelExplainer], classifier: any Classifier,
    fill: [Double], steps: Int = DeletionInsertionCurves.defaultPixelSteps, batchSize: Int = 100,
    progress: (String) -> Void = { _ in }
  ) -> ExplainerComparison {
    let entries = explainers.map { explainer -> Entry in
      progress(explainer.name)
      let started = monotonicSeconds()
      do {
        guard let map = try explainer.explain(image, labels: [label], classifier: classifier).first
        else {
          return Entry(
            name: explainer.name, map: nil, curves: nil, failure: "no map",
            seconds: monotonicSeconds() - started)
        }
        let seconds = monotonicSeconds() - started
        let curves = DeletionInsertionCurves.measurePixels(
          image, map: map, label: label, fill: fill, classifier: classifier, steps: steps,
          batchSize: batchSize)
        return Entry(
          name: explainer.name, map: map, curves: curves, failure: nil, seconds: seconds,
          curveSeconds: monotonicSeconds() - started - seconds)
      } catch {
        return Entry(
          name: explainer.name, map: nil, curves: nil, failure: "\(error)",
          seconds: monotonicSeconds() - started)
      }
    }
    return ExplainerComparison(label: label, fill: fill, entries: entries)
  }
}

import FoundationEssentials
import GlimpseCore
import GlimpseExplain
import GlimpseModels
import GlimpseRender

/// The JSON written beside a `compare-explainers` PNG: every method's map, curves and ranks.
public struct ExplainerComparisonSidecar: Codable, Sendable, Equatable {
  /// One method's result.
  public struct Method: Codable, Sendable, Equatable {
    /// The method's name (`lime`, `kernelshap`, `occlusion`).
    public var name: String
    /// Its settings in words (`3 segmenters × 1000 samples`, `window 4×4, stride 2×2`).
    public var settings: String
    /// Seconds it took to explain (without its curves).
    public var seconds: Double
    /// Seconds its deletion and insertion curves took.
    public var curveSeconds: Double?
    /// Its per-pixel map for the explained class, row-major, as the method gave it.
    public var map: [Double]?
    /// The pixel deletion and insertion curves of the map, when it has one.
    public var faithfulness: ExplanationSidecar.Faithfulness?
    /// 1-based rank by deletion AUC (1 = lowest, best).
    public var deletionRank: Int?
    /// 1-based rank by insertion AUC (1 = highest, best).
    public var insertionRank: Int?
    /// Why the method gave no map, when it failed.
    public var failure: String?
  }

  /// The version of Glimpse that wrote the sidecar.
  public var glimpseVersion: String
  /// The model that was explained.
  public var model: ExplanationSidecar.Model
  /// Where the image came from.
  public var source: String
  /// The image's true class, when known.
  public var truth: String?
  /// The explained class.
  public var explained: String
  /// The model's probability of the explained class.
  public var probability: Double
  /// The seed of the perturbations.
  public var seed: UInt64
  /// The fill of removed pixels as the user gave it (`mean`, `0`).
  public var fill: String
  /// The fill's value in each channel.
  public var fillValues: [Double]
  /// The image's width in pixels.
  public var width: Int
  /// The image's height in pixels.
  public var height: Int
  /// One entry per method, in the order they ran.
  public var methods: [Method]
  /// The methods' names by deletion AUC, best (lowest) first.
  public var deletionRanking: [String]
  /// The methods' names by insertion AUC, best (highest) first.
  public var insertionRanking: [String]
  /// The PNG's file name (no folders); empty until known.
  public var png: String

  /// The sidecar as JSON, keys sorted. Throws when a number cannot be written as JSON.
  public func encoded() throws(EncodingError) -> [UInt8] {
    try sortedKeysJSON(self)
  }

  /// The console lines of the ranking: a heading, then one line per method by deletion AUC,
  /// `  1. occlusion   deletion 0.120  insertion 0.810 (rank 2)  3.20 s (curves 0.20 s)`, failed
  /// methods last.
  public var rankingLines: [String] {
    let width = methods.map(\.name.count).max() ?? 0
    var lines = [
      "faithfulness for \(explained), methods by pixel deletion AUC (lower is better; insertion AUC: higher is better):"
    ]
    for (rank, name) in deletionRanking.enumerated() {
      guard let m = methods.first(where: { $0.name == name }), let f = m.faithfulness else {
        continue
      }
      let padded = name + String(repeating: " ", count: width - name.count)
      lines.append(
        "  \(rank + 1). \(padded)  deletion \(formatFixed(f.deletionAUC, digits: 3))"
          + "  insertion \(formatFixed(f.insertionAUC, digits: 3)) (rank \(m.insertionRank ?? 0))"
          + "  \(formatFixed(m.seconds, digits: 2)) s (curves \(formatFixed(m.curveSeconds ?? 0, digits: 2)) s)"
      )
    }
    for m in methods where m.failure != nil {
      lines.append("  -. \(m.name): failed: \(m.failure ?? "")")
    }
    return lines
  }

  /// The ranking as CSV: `method,deletion_auc,insertion_auc,deletion_rank,insertion_rank,seconds,
  /// curve_seconds`,
  /// one line per method in the order they ran (failed methods with empty fields).
  public var rankingCSV: String {
    var text =
      "method,deletion_auc,insertion_auc,deletion_rank,insertion_rank,seconds,curve_seconds\n"
    for m in methods {
      let f = m.faithfulness
      text +=
        "\(m.name),\(f.map { "\($0.deletionAUC)" } ?? ""),\(f.map { "\($0.insertionAUC)" } ?? ""),"
        + "\(m.deletionRank.map(String.init) ?? ""),\(m.insertionRank.map(String.init) ?? ""),"
        + "\(m.seconds),\(m.curveSeconds.map { "\($0)" } ?? "")\n"
    }
    return text
  }
}

/// A comparison's figure and sidecar.
public struct ExplainerComparisonReport: Sendable {
  /// The figure (`ExplainerComparisonFigure`) as PNG bytes.
  public var png: [UInt8]
  /// The sidecar; its `png` is empty until the PNG's name is known.
  public var sidecar: ExplainerComparisonSidecar

  /// Compares `explainers` on `image` for one class and renders the result.
  /// - Parameters:
  ///   - explainers: the methods with their settings in words, in the figure's order.
  ///   - label: the class to explain, or `nil` for the model's most probable class.
  ///   - fill: the fill of removed pixels for every method's curves; `fillText` is how the user
  ///     gave it (`mean`, `0`), for the sidecar.
  ///   - inversion: whether the figure shows the image inverted.
  ///   - progress: called with each method's name before it runs.
  /// - Throws: `RenderError` when the figure cannot be drawn.
  public static func make(
    _ image: Image, source: String, shortName: String, truth: String?, model: any Classifier,
    modelFile: ExplanationSidecar.Model,
    explainers: [(explainer: any PixelExplainer, settings: String)],
    label: Int?, fill: OcclusionExplainer.Fill, fillText: String, seed: UInt64,
    glimpseVersion: String, batchSize: Int = 100, inversion: ImageInversion = .automatic,
    progress: (String) -> Void = { _ in }
  ) throws(RenderError) -> ExplainerComparisonReport {
    let probabilities = model.predictProbabilities(
      Matrix(rows: 1, columns: image.pixels.count, storage: image.pixels))
    let explained = label ?? AmbiguityFinder.rank(probabilities)[0].first
    let fillValues = fill.values(for: image)
    let comparison = withSingleThreadedBLAS {
      ExplainerComparison.compare(
        image, label: explained, explainers: explainers.map(\.explainer), classifier: model,
        fill: fillValues, batchSize: batchSize, progress: progress)
    }
    let deletion = comparison.deletionRanking
    let insertion = comparison.insertionRanking
    let className = model.classNames[explained]
    let methods = comparison.entries.enumerated().map { index, e in
      ExplainerComparisonSidecar.Method(
        name: e.name, settings: explainers[index].settings, seconds: e.seconds,
        curveSeconds: e.curveSeconds, map: e.map?.values,
        faithfulness: e.curves.map {
          .init(
            explained: className, fractions: $0.fractions, deletion: $0.deletion,
            insertion: $0.insertion, deletionAUC: $0.deletionArea, insertionAUC: $0.insertionArea)
        },
        deletionRank: deletion.firstIndex(of: index).map { $0 + 1 },
        insertionRank: insertion.firstIndex(of: index).map { $0 + 1 }, failure: e.failure)
    }
    let p = probabilities[0, explained]
    let sidecar = ExplainerComparisonSidecar(
      glimpseVersion: glimpseVersion, model: modelFile, source: source, truth: truth,
      explained: className, probability: p, seed: seed, fill: fillText, fillValues: fillValues,
      width: image.width, height: image.height, methods: methods,
      deletionRanking: deletion.map { comparison.entries[$0].name },
      insertionRanking: insertion.map { comparison.entries[$0].name }, png: "")
    var figure = ExplainerComparisonFigure(
      image: image, caption: shortName + (truth.map { " · truth \($0)" } ?? ""),
      title: "Why \(ExplanationFigure.percent(p, className))? "
        + (comparison.entries.count == 1
          ? comparison.entries[0].name : "\(comparison.entries.count) methods")
        + (truth.map { " · truth \($0)" } ?? "") + " · \(source)",
      className: className,
      panels: comparison.entries.map { e in
        .init(
          name: e.name, weights: e.map?.values,
          faithfulness: e.curves.map { ($0.deletionArea, $0.insertionArea) }, failure: e.failure)
      })
    figure.fillText = fill == .imageMean ? "the image's mean" : fillText
    figure.steps = DeletionInsertionCurves.defaultPixelSteps
    switch inversion {
    case .automatic: figure.invert = ContactSheet.prefersInverted([image])
    case .inverted: figure.invert = true
    case .asIs: figure.invert = false
    }
    figure.panelSize = ExplanationFigure.panelSize(forImageWidth: image.width, height: image.height)
    return ExplainerComparisonReport(png: try figure.pngData(), sidecar: sidecar)
  }
}

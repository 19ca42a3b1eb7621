import GlimpseCore
import GlimpseExplain
import GlimpseModels
import GlimpseRender
import GlimpseSegmentation

/// Whether a figure shows its image inverted (dark on white).
public enum ImageInversion: Sendable, Equatable {
  /// Inverted when the image is dark and grey (as digits are), as contact sheets decide.
  case automatic
  /// Always inverted.
  case inverted
  /// Never inverted.
  case asIs
}

/// What one explanation gives the user: the figure, its sidecar and a one-line summary.
public struct ExplanationReport: Sendable {
  /// The figure (`ExplanationFigure`) as PNG bytes.
  public var png: [UInt8]
  /// The JSON sidecar's content; its `png` field is empty until the PNG's name is known.
  public var sidecar: ExplanationSidecar
  /// `62% 4, 31% 9; segmenter agreement 0.87`: the pair's probabilities and the agreement.
  public var summary: String
}

/// Turns an image into an explanation report: LIME over every segmenter
/// (`CombinedExplanation`), the figure that shows it (`ExplanationFigure`) and the sidecar that
/// records it. One reporter holds one model and one set of settings, and explains any number of
/// images with them, from several threads at once if wanted.
///
/// A reporter returns values: it prints nothing and writes no file. Callers read the model file
/// (its path and SHA-256 go into every sidecar) and write the results.
public struct ExplanationReporter: Sendable {
  /// The model to explain.
  public var model: any Classifier
  /// The segmenters, in the order their explanations appear in the figure and the sidecar.
  public var segmenters: [any Segmenter]
  /// The LIME explainer (samples, batch size, hidden-segment fill).
  public var explainer: LimeImageExplainer
  /// KernelSHAP's settings; when set, explanations are KernelSHAP's Shapley values and the LIME
  /// explainer's settings go unused. `nil` (the default): LIME.
  public var kernelSHAP: KernelSHAPExplainer? = nil
  /// Whether each segmenter's explanation gets its deletion and insertion curves (RISE §4.1,
  /// `DeletionInsertionCurves`), in the sidecar and the figure. On by default.
  public var measuresFaithfulness = true
  /// Runs per explanation for the stability figures (`ExplanationStability`): the image is
  /// explained again with seeds `seed + 1`, ..., `seed + runs − 1` and each segmenter's runs are
  /// compared. 1 (the default): not measured.
  public var stabilityRuns = 1
  /// The seed of the perturbations; segmenter i uses stream i.
  public var seed: UInt64
  /// The two classes to explain (indices into the model's classes), or `nil` for the model's
  /// first and second class on each image.
  public var classPair: (first: Int, second: Int)?
  /// The weight (in probability) drawn at full colour in the per-segmenter panels.
  public var weightScale = 0.2
  /// Whether figures show their image inverted.
  public var inversion = ImageInversion.automatic
  /// The sidecar's `hideColor`: the fill of hidden segments as the user gave it (`mean`, `0`).
  public var hideColorText: String
  /// The model file's path, as the sidecar records it.
  public var modelPath: String
  /// The model file's SHA-256 (lowercase hex), as the sidecar records it.
  public var modelSHA256: String
  /// The version of Glimpse that the sidecar records.
  public var glimpseVersion: String

  /// A reporter for `model`, read from `modelPath` (whose bytes hash to `modelSHA256`), with
  /// the model's first two classes explained, automatic inversion and a weight scale of 0.2.
  /// The sidecar's `hideColor` is taken from the explainer (`mean` or the fill's value) unless
  /// `hideColorText` is set afterwards.
  public init(
    model: any Classifier, segmenters: [any Segmenter], explainer: LimeImageExplainer, seed: UInt64,
    modelPath: String, modelSHA256: String, glimpseVersion: String
  ) {
    self.model = model
    self.segmenters = segmenters
    self.explainer = explainer
    self.seed = seed
    self.modelPath = modelPath
    self.modelSHA256 = modelSHA256
    self.glimpseVersion = glimpseVersion
    switch explainer.hideColor {
    case .segmentMean: hideColorText = "mean"
    case .constant(let value): hideColorText = "\(value)"
    }
  }

  /// Explains `image` (already in the model's input shape) and renders the figure and sidecar.
  ///
  /// - Parameters:
  ///   - source: where the image came from (a file path, `table:row`), in the title and sidecar.
  ///   - shortName: the name drawn under the image (the CLI passes the file name without
  ///     folders and extensions).
  ///   - truth: the image's true class, when known.
  ///   - layout: one column per segmenter, or one row (`compare-segmenters`).
  ///   - neighbors: training images shown beside the explanation.
  ///   - segmenters: the segmenters for this image, in place of `self.segmenters` (a caller's
  ///     cache wraps them per image); their specs must be the same.
  /// - Throws: `RenderError` when the figure cannot be drawn.
  public func report(
    _ image: Image, source: String, shortName: String, truth: String?,
    layout: ExplanationFigure.Layout = .columns, neighbors: [ExplanationFigure.Neighbor] = [],
    segmenters: [any Segmenter]? = nil
  ) throws(RenderError) -> ExplanationReport {
    // LIME's products are small and run side by side on all cores: one OpenBLAS thread each
    // avoids oversubscription. Held for this call only; a caller that holds it already (a
    // whole batch) keeps it across calls.
    let outcome = withSingleThreadedBLAS { () -> Result<ExplanationReport, RenderError> in
      do throws(RenderError) {
        return .success(
          try render(
            image, source: source, shortName: shortName, truth: truth, layout: layout,
            neighbors: neighbors, segmenters: segmenters ?? self.segmenters))
      } catch {
        return .failure(error)
      }
    }
    return try outcome.get()
  }

  private func render(
    _ image: Image, source: String, shortName: String, truth: String?,
    layout: ExplanationFigure.Layout, neighbors: [ExplanationFigure.Neighbor],
    segmenters: [any Segmenter]
  ) throws(RenderError) -> ExplanationReport {
    let row = Matrix(rows: 1, columns: image.pixels.count, storage: image.pixels)
    let probabilities = model.predictProbabilities(row)
    let pair: (first: Int, second: Int)
    if let classPair {
      pair = classPair
    } else {
      let ranked = AmbiguityFinder.rank(probabilities)[0]
      pair = (ranked.first, ranked.second)
    }
    let method = kernelSHAP.map(ExplanationMethod.kernelSHAP) ?? .lime(explainer)
    let result = CombinedExplanation.explain(
      image, segmenters: segmenters, labels: [pair.first, pair.second], method: method,
      seed: seed, classifier: model, faithfulness: measuresFaithfulness)
    var stability = [ExplanationStability?](repeating: nil, count: result.explanations.count)
    if stabilityRuns >= 2 {
      let reruns = (1..<stabilityRuns).map { run in
        CombinedExplanation.explain(
          image, segmenters: segmenters, labels: [pair.first, pair.second], method: method,
          seed: seed &+ UInt64(run), classifier: model)
      }
      stability = result.explanations.indices.map { i in
        ExplanationStability([result.explanations[i]] + reruns.map { $0.explanations[i] })
      }
    }
    let names = (model.classNames[pair.first], model.classNames[pair.second])
    let p = (probabilities[0, pair.first], probabilities[0, pair.second])
    var figure = ExplanationFigure(
      image: image, caption: shortName + (truth.map { " · truth \($0)" } ?? ""),
      title: Self.title(names: names, probabilities: p, truth: truth, source: source),
      classNames: names, probabilities: p,
      columns: result.explanations.map { e in
        ExplanationFigure.Column(
          name: e.segmenter?.description ?? "?", segments: e.segments,
          firstWeights: e.pixelWeights(0),
          secondWeights: e.pixelWeights(1), scores: (e.scores[0], e.scores[1]),
          faithfulness: e.faithfulness.map { ($0.deletionArea, $0.insertionArea) })
      },
      combined: (result.combined[0].values, result.combined[1].values),
      agreement: result.agreement[0])
    switch inversion {
    case .automatic: figure.invert = ContactSheet.prefersInverted([image])
    case .inverted: figure.invert = true
    case .asIs: figure.invert = false
    }
    figure.panelSize = ExplanationFigure.panelSize(forImageWidth: image.width, height: image.height)
    figure.weightScale = weightScale
    if kernelSHAP != nil { figure.weightName = "Shapley value (KernelSHAP)" }
    figure.layout = layout
    figure.neighbors = neighbors
    var sidecar = ExplanationSidecar(
      glimpseVersion: glimpseVersion,
      model: .init(
        path: modelPath, sha256: modelSHA256, kind: type(of: model).kind,
        classNames: model.classNames),
      source: source, truth: truth,
      // Class names come from the model file: a repeated name keeps its first probability
      // rather than trapping.
      probabilities: Dictionary(
        zip(model.classNames, probabilities.row(0)), uniquingKeysWith: { first, _ in first }),
      explained: [names.0, names.1], seed: seed,
      samples: kernelSHAP?.coalitionCount ?? explainer.sampleCount,
      hideColor: hideColorText, width: image.width, height: image.height,
      segmenters: result.explanations.map { e in
        .init(
          spec: e.segmenter?.description ?? "?", segmentCount: e.segments.count,
          segments: e.segments.labels, weights: e.weights, intercepts: e.intercepts,
          r2: e.scores, localPredictions: e.localPredictions, scoredImages: e.sampleCount,
          faithfulness: e.faithfulness.map {
            .init(
              explained: names.0, fractions: $0.fractions, deletion: $0.deletion,
              insertion: $0.insertion,
              deletionAUC: $0.deletionArea, insertionAUC: $0.insertionArea)
          })
      },
      combined: result.combined.map(\.values), agreement: result.agreement, png: "",
      explainer: method.name)
    for i in sidecar.segmenters.indices { sidecar.segmenters[i].stability = stability[i] }
    if kernelSHAP == nil, let count = explainer.featureCount {
      sidecar.numFeatures = count
      sidecar.featureSelection = explainer.featureSelection.rawValue
    }
    return ExplanationReport(
      png: try figure.pngData(), sidecar: sidecar,
      summary: Self.summary(
        names: names, probabilities: p, agreement: result.agreement[0],
        stability: stability.compactMap { $0 }))
  }

  /// The figure's title: `62% 4 or 31% 9? truth 9 · digits.csv:12`.
  public static func title(
    names: (String, String), probabilities: (Double, Double), truth: String?, source: String
  ) -> String {
    "\(ExplanationFigure.percent(probabilities.0, names.0)) or \(ExplanationFigure.percent(probabilities.1, names.1))?"
      + (truth.map { " truth \($0)" } ?? "") + " · \(source)"
  }

  /// The one-line summary: `62% 4, 31% 9; segmenter agreement 0.87` (no agreement for one
  /// segmenter), then, when stability was measured, its means over the segmenters:
  /// `; over 5 seeds ρ 0.93, top-5 Jaccard 0.80`.
  public static func summary(
    names: (String, String), probabilities: (Double, Double), agreement: Double?,
    stability: [ExplanationStability] = []
  ) -> String {
    var line =
      "\(ExplanationFigure.percent(probabilities.0, names.0)), \(ExplanationFigure.percent(probabilities.1, names.1))"
      + (agreement.map { "; segmenter agreement \(formatFixed($0, digits: 2))" } ?? "")
    if let first = stability.first {
      let count = Double(stability.count)
      let rho = stability.reduce(0) { $0 + $1.spearman } / count
      let jaccard = stability.reduce(0) { $0 + $1.topKJaccard } / count
      line +=
        "; over \(first.runs) seeds ρ \(formatFixed(rho, digits: 2)), top-\(first.topK) Jaccard \(formatFixed(jaccard, digits: 2))"
    }
    return line
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseValuation

/// `glimpse value DATA --embed MODEL`: value the points on a CNN's embeddings instead of their
/// pixels, in one command (issue #21, item 4).
///
/// The embeddings are what `glimpse embed MODEL` writes (the penultimate activations, the input
/// of the network's last dense layer), computed in memory for the training, validation and
/// held-out sets alike; `glimpse embed` followed by `glimpse value` on its tables gives the same
/// values bit for bit.
struct ValuationEmbedOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Value the points on this CNN's or imported network's embeddings (what glimpse embed writes: the input of its last fully connected layer) instead of their pixels; DATA and the other sets are images the model reads.",
      valueName: "model"))
  var embed: String?

  /// The sets with every row replaced by its embedding (labels, class names and sources kept),
  /// and a line that says which layer of which model gave them; the sets unchanged and `nil`
  /// without `--embed`.
  func apply(to sets: ValuationSets, dataPath: String) throws -> (ValuationSets, String?) {
    guard let path = embed else { return (sets, nil) }
    let (model, archive) = try loadModel(path)
    let embedder = try imageEmbedder(model, path: path)
    var sets = sets
    // Images of another size or channel count are brought to the model's input, as `embed`
    // and `predict` bring them.
    if let target = archive.imageShape, let shape = sets.training.imageShape, shape != target {
      sets.training = ModelInput.conform(sets.training, to: target)
      sets.validation = ModelInput.conform(sets.validation, to: target)
      sets.heldOut = sets.heldOut.map { ModelInput.conform($0, to: target) }
      if sets.training.featureCount == embedder.featureCount {
        print(
          "\(dataPath): resized (antialiased) \(shape.height)×\(shape.width)×\(shape.channels) images to \(path)'s input \(target.height)×\(target.width)×\(target.channels)"
        )
      }
    }
    guard sets.training.featureCount == embedder.featureCount else {
      let shape =
        archive.imageShape.map { "\($0.height)×\($0.width)×\($0.channels) images; " } ?? ""
      throw CommandFailure(
        message:
          "\(dataPath): rows have \(sets.training.featureCount) features, but \(path) was trained on \(embedder.featureCount) (\(shape)read the images alike with --size HxW or --gray)",
        status: ExitStatus.badInput)
    }
    let started = monotonicSeconds()
    func embedded(_ data: Dataset) -> Dataset {
      Dataset(
        features: embedder.embed(data), labels: data.labels, classNames: data.classNames,
        sources: data.sources)
    }
    var result = sets
    result.training = embedded(sets.training)
    result.validation = embedded(sets.validation)
    result.heldOut = sets.heldOut.map(embedded)
    let rows = sets.training.count + sets.validation.count + (sets.heldOut?.count ?? 0)
    let line =
      "embedding: \(path), penultimate layer: \(embedder.embeddingLayer)\(embedder is CNNClassifier ? "" : "; \(result.training.featureCount) dimensions"), \(rows) rows in \(formatDuration(monotonicSeconds() - started))"
    return (result, line)
  }
}

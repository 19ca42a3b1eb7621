import FoundationEssentials
import Glibc
import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseRender
import GlimpseSegmentation

/// One model, one set of segmenters and options: explains images and renders the results.
struct ExplanationJob {
  let model: any Classifier
  /// The model file's archive (class names, image shape).
  let archive: ModelArchive
  let modelPath: String
  let modelHash: String
  let options: ExplanationOptions
  let segmenters: [any Segmenter]
  /// Segmentations kept between runs (`--segment-cache`), or `nil`.
  let segmentationCache: SegmentationCache?

  init(modelPath: String, options: ExplanationOptions) throws {
    // LIME's products are small and run side by side on all cores: one BLAS thread each
    // avoids oversubscription (OpenBLAS threads spin while they wait).
    BLAS.setThreadCount(1)
    let bytes = try FileBytes.readRaw(modelPath)
    // The sidecar's SHA-256 of the file and the model's decoding each take a few hundred
    // milliseconds for a 100 MB model (an SVM on 224×224 images): run them side by side.
    let decoded = ResultSlot<(model: any Classifier, archive: ModelArchive)>()
    let digest = ResultSlot<String>()
    forkJoin(parts: 2) { part in
      if part == 0 {
        decoded.set(Result { try decodeModel(bytes, path: modelPath) })
      } else {
        digest.set(.success(SHA256.hexDigest(bytes)))
      }
    }
    (model, archive) = try decoded.get()
    self.modelPath = modelPath
    modelHash = try digest.get()
    self.options = options
    // Images are explained at the model's input shape: the default segmenters fit that size.
    segmenters = try options.segmenters(for: archive.imageShape)
    segmentationCache = options.segmentationCache
    if options.segmenterSpecs.isEmpty, let shape = archive.imageShape, shape.height > 32 || shape.width > 32 {
      print(
        "segmenters (defaults for \(shape.height)×\(shape.width)×\(shape.channels) (H×W×C) images): "
          + segmenters.map { $0.spec.description }.joined(separator: " "))
    }
  }

  /// What one explanation produced.
  struct Output {
    var png: [UInt8]
    var sidecar: ExplanationSidecar
    var summary: String
  }

  /// Explains an image (already in the model's shape) and renders it.
  func explain(
    _ image: Image, source: String, truth: String?, layout: ExplanationFigure.Layout = .columns,
    neighbors: [ExplanationFigure.Neighbor] = []
  ) throws -> Output {
    let row = Matrix(rows: 1, columns: image.pixels.count, storage: image.pixels)
    let probabilities = model.predictProbabilities(row)
    let ranked = AmbiguityFinder.rank(probabilities)[0]
    let pair = try options.classPair(model.classNames) ?? (ranked.first, ranked.second)
    let result = CombinedExplanation.explain(
      image, segmenters: segmentationCache?.segmenters(segmenters, for: image) ?? segmenters,
      labels: [pair.0, pair.1], explainer: options.explainer,
      seed: options.seed, classifier: model)
    let names = (model.classNames[pair.0], model.classNames[pair.1])
    let p = (probabilities[0, pair.0], probabilities[0, pair.1])
    var caption = fileStem(source)
    if let truth { caption += " · truth \(truth)" }
    let invert: Bool
    switch options.invert {
    case .auto: invert = ContactSheet.prefersInverted([image])
    case .yes: invert = true
    case .no: invert = false
    }
    var figure = ExplanationFigure(
      image: image, caption: caption,
      title: "\(ExplanationFigure.percent(p.0, names.0)) or \(ExplanationFigure.percent(p.1, names.1))?"
        + (truth.map { " truth \($0)" } ?? "") + " · \(source)",
      classNames: names, probabilities: p,
      columns: result.explanations.map { e in
        ExplanationFigure.Column(
          name: e.segmenter?.description ?? "?", segments: e.segments, firstWeights: e.pixelWeights(0),
          secondWeights: e.pixelWeights(1), scores: (e.scores[0], e.scores[1]))
      },
      combined: (result.combined[0].values, result.combined[1].values), agreement: result.agreement[0])
    figure.invert = invert
    figure.panelSize = ExplanationFigure.panelSize(forImageWidth: image.width, height: image.height)
    figure.weightScale = options.weightScale
    figure.layout = layout
    figure.neighbors = neighbors
    let sidecar = ExplanationSidecar(
      glimpseVersion: Glimpse.version,
      model: .init(path: modelPath, sha256: modelHash, kind: type(of: model).kind, classNames: model.classNames),
      source: source, truth: truth,
      // Class names come from the model file: a repeated name keeps its first probability
      // rather than trapping.
      probabilities: Dictionary(zip(model.classNames, probabilities.row(0)), uniquingKeysWith: { first, _ in first }),
      explained: [names.0, names.1], seed: options.seed, samples: options.samples,
      hideColor: options.hideColor, width: image.width, height: image.height,
      segmenters: result.explanations.map { e in
        .init(spec: e.segmenter?.description ?? "?", segmentCount: e.segments.count,
              segments: e.segments.labels, weights: e.weights, intercepts: e.intercepts,
              r2: e.scores, localPredictions: e.localPredictions)
      },
      combined: result.combined.map(\.values), agreement: result.agreement, png: "")
    let summary = "\(ExplanationFigure.percent(p.0, names.0)), \(ExplanationFigure.percent(p.1, names.1))"
      + (result.agreement[0].map { "; segmenter agreement \(formatFixed($0, digits: 2))" } ?? "")
    return Output(png: try drawing(for: source) { () throws(RenderError) in try figure.pngData() }, sidecar: sidecar, summary: summary)
  }

  /// Writes the PNG and its JSON sidecar (same name, `.json`), each atomically.
  func write(_ output: Output, to pngPath: String) throws {
    try write(encoded(output, for: pngPath), to: pngPath)
  }

  /// The bytes of the PNG and of its sidecar for `pngPath` (the sidecar names the PNG).
  /// Encoding costs about as much as a tenth of an explanation, so a batch does it on its
  /// worker threads and leaves only the writes to the thread that keeps them in order.
  func encoded(_ output: Output, for pngPath: String) throws -> (png: [UInt8], sidecar: [UInt8]) {
    var sidecar = output.sidecar
    sidecar.png = AtomicFile.lastComponent(of: pngPath)
    return (output.png, try sidecar.encoded())
  }

  /// Writes encoded files (`encoded(_:for:)`), each atomically: the sidecar first, then the
  /// PNG, so that a PNG never exists without its sidecar (the gallery and audits read the
  /// sidecar). When the PNG cannot be written (a full disk), the new sidecar and any older PNG
  /// of that name are removed: the item then has no output at all rather than a mismatched pair.
  func write(_ files: (png: [UInt8], sidecar: [UInt8]), to pngPath: String) throws {
    let sidecar = sidecarPath(for: pngPath)
    do {
      try AtomicFile.write(files.sidecar, to: sidecar)
    } catch {
      // An older PNG beside a sidecar that failed to update would be paired with stale numbers.
      unlink(pngPath)
      throw error
    }
    do {
      try AtomicFile.write(files.png, to: pngPath)
    } catch {
      unlink(pngPath)
      unlink(sidecar)
      throw error
    }
  }

  /// Brings an image read from a file to the model's input shape (channels, then size).
  func prepare(_ image: Image, shape: ImageShape?, source: String) throws -> Image {
    guard let shape else {
      throw CommandFailure(message: "\(modelPath): the model was not trained on images (no image shape)", status: ExitStatus.badInput)
    }
    var prepared = image.channels == shape.channels ? image : image.converted(toChannels: shape.channels == 1 ? 1 : 3)
    if prepared.height != shape.height || prepared.width != shape.width {
      prepared = prepared.resized(height: shape.height, width: shape.width)
    }
    guard prepared.pixels.count == model.featureCount else {
      throw CommandFailure(message: "\(source): image has \(prepared.pixels.count) values, the model expects \(model.featureCount)", status: ExitStatus.badInput)
    }
    return prepared
  }
}

/// Draws a figure of `file`'s data; a rendering failure becomes one line naming that file
/// (Cairo's own message names no file).
func drawing(for file: String, _ draw: () throws(RenderError) -> [UInt8]) throws -> [UInt8] {
  do {
    return try draw()
  } catch {
    throw CommandFailure(message: "\(file): \(error.description)", status: ExitStatus.badInput)
  }
}

func sidecarPath(for pngPath: String) -> String {
  (pngPath.hasSuffix(".png") ? String(pngPath.dropLast(4)) : pngPath) + ".json"
}

/// The JSON written beside every explanation PNG: enough to redraw or audit it.
struct ExplanationSidecar: Codable {
  struct Model: Codable {
    var path: String
    var sha256: String
    var kind: String
    var classNames: [String]
  }
  struct Segmentation: Codable {
    var spec: String
    var segmentCount: Int
    /// Row-major segment of every pixel.
    var segments: [Int32]
    /// Per explained class, one weight per segment.
    var weights: [[Double]]
    var intercepts: [Double]
    var r2: [Double]
    var localPredictions: [Double]
  }
  var glimpseVersion: String
  var model: Model
  var source: String
  var truth: String?
  var probabilities: [String: Double]
  var explained: [String]
  var seed: UInt64
  var samples: Int
  var hideColor: String
  var width: Int
  var height: Int
  var segmenters: [Segmentation]
  /// Per explained class, the combined per-pixel map in [−1, 1].
  var combined: [[Double]]
  var agreement: [Double?]
  var png: String

  func encoded() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Array(try encoder.encode(self))
  }
}

/// Reads an image file (PNG or JPEG), reporting a decoding failure with the file's path.
func readImageFile(_ path: String, limits: ReadLimits = ReadLimits()) throws -> Image {
  do {
    return try ImageFileFormat.decode(FileBytes.readRaw(path), maxPixels: limits.maxPixels)
  } catch let error as CodecError {
    throw DataError.unreadableImage(path: path, reason: error.reason)
  }
}

/// A value computed on another thread of a `forkJoin`, read after the join.
private final class ResultSlot<Value>: @unchecked Sendable {
  private var result: Result<Value, any Error>?

  /// Stores the outcome (called by exactly one part, before the join).
  func set(_ outcome: Result<Value, any Error>) { result = outcome }

  /// The stored value, or the stored error thrown.
  func get() throws -> Value {
    guard let result else { throw CommandFailure(message: "internal: a parallel part did not run") }
    return try result.get()
  }
}

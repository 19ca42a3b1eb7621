import Glibc
import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseRender
import GlimpseReport
import GlimpseSegmentation

/// One model file, one set of segmenters and options: explains images and writes the results.
///
/// The explanation itself (LIME, the figure, the sidecar, the summary) is the library's
/// `ExplanationReporter`; the job adds what a command needs around it: reading and hashing the
/// model file, the segmentation cache, the image's conversion to the model's shape, and the
/// files. The reporter holds OpenBLAS at one thread while it explains; the explain commands
/// hold it for their whole run (`SingleThreadedBLAS`), which also covers their scans and
/// neighbour searches, so that nothing sets it process-wide.
struct ExplanationJob {
  let model: any Classifier
  /// The model file's archive (class names, image shape).
  let archive: ModelArchive
  let modelPath: String
  /// The region of interest's file (`--mask`), recorded in the sidecars.
  let maskPath: String?
  /// The SHA-256 of the model file (of the command for `cmd:` models).
  let modelSHA256: String
  let segmenters: [any Segmenter]
  /// Segmentations kept between runs (`--segment-cache`), or `nil`.
  let segmentationCache: SegmentationCache?
  /// The model and the explanation settings, as the library explains with them.
  let reporter: ExplanationReporter

  /// A job for `options`; a pixel method (`--explainer occlusion`, gradient maps) is refused unless the caller explains with
  /// pixel methods itself (`compareExplainers`), since the reporter weighs segments.
  init(
    modelPath: String, options: ExplanationOptions,
    external: ExternalModelSettings = ExternalModelSettings(), allowsPixelMethods: Bool = false
  ) throws {
    guard allowsPixelMethods || !options.explainer.isPixelMethod else {
      throw CommandFailure(
        message:
          "--explainer \(options.explainer.rawValue): only glimpse explain and compare-explainers explain by \(options.explainer.rawValue)",
        status: ExitStatus.usage)
    }
    let sha256: String
    (model, archive, sha256) = try loadModelWithDigest(modelPath, external: external)
    self.modelPath = modelPath
    maskPath = options.mask
    modelSHA256 = sha256
    // Images are explained at the model's input shape: the default segmenters fit that size.
    var segmenters = try options.segmenters(for: archive.imageShape)
    var explainer = options.lime
    if let maskPath = options.mask {
      let mask = try readRegionOfInterest(maskPath, shape: archive.imageShape)
      segmenters = segmenters.map { $0.masked(by: mask) }
      explainer.regionOfInterest = mask
    }
    self.segmenters = segmenters
    // The cache is keyed by spec and image, and a mask changes the segments: off with --mask.
    segmentationCache = options.mask == nil ? options.segmentationCache : nil
    var reporter = ExplanationReporter(
      model: model, segmenters: segmenters, explainer: explainer, seed: options.seed,
      modelPath: modelPath, modelSHA256: sha256, glimpseVersion: Glimpse.version)
    reporter.classPair = try options.classPair(model.classNames)
    reporter.weightScale = options.weightScale
    reporter.kernelSHAP = options.kernelSHAP
    reporter.measuresFaithfulness = options.faithfulness
    reporter.stabilityRuns = options.stability
    reporter.hideColorText = options.hideColor
    switch options.invert {
    case .auto: reporter.inversion = .automatic
    case .yes: reporter.inversion = .inverted
    case .no: reporter.inversion = .asIs
    }
    self.reporter = reporter
    if options.segmenterSpecs.isEmpty, let shape = archive.imageShape,
      shape.height > 32 || shape.width > 32
    {
      print(
        "segmenters (defaults for \(shape.height)×\(shape.width)×\(shape.channels) (H×W×C) images): "
          + segmenters.map { $0.spec.description }.joined(separator: " "))
    }
  }

  /// Explains an image (already in the model's shape) and renders it; a rendering failure
  /// names the image's source.
  func explain(
    _ image: Image, source: String, truth: String?, layout: ExplanationFigure.Layout = .columns,
    neighbors: [ExplanationFigure.Neighbor] = []
  ) throws -> ExplanationReport {
    // After a model command failed, every item fails at once (no segmentation first).
    try checkModelAnswered(model)
    let report = try drawing(for: source) { () throws(RenderError) in
      try reporter.report(
        image, source: source, shortName: fileStem(source), truth: truth, layout: layout,
        neighbors: neighbors, segmenters: segmentationCache?.segmenters(segmenters, for: image))
    }
    // A model command that failed gave placeholder probabilities: the report is not used.
    try checkModelAnswered(model)
    return report
  }

  /// Writes the PNG and its JSON sidecar (same name, `.json`), each atomically.
  func write(_ output: ExplanationReport, to pngPath: String) throws {
    try write(encoded(output, for: pngPath), to: pngPath)
  }

  /// The bytes of the PNG and of its sidecar for `pngPath` (the sidecar names the PNG).
  /// Encoding costs about as much as a tenth of an explanation, so a batch does it on its
  /// worker threads and leaves only the writes to the thread that keeps them in order.
  func encoded(_ output: ExplanationReport, for pngPath: String) throws -> (
    png: [UInt8], sidecar: [UInt8]
  ) {
    var sidecar = output.sidecar
    sidecar.png = AtomicFile.lastComponent(of: pngPath)
    sidecar.mask = maskPath
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
      throw CommandFailure(
        message: "\(modelPath): the model was not trained on images (no image shape)",
        status: ExitStatus.badInput)
    }
    var prepared =
      image.channels == shape.channels
      ? image : image.converted(toChannels: shape.channels == 1 ? 1 : 3)
    if prepared.height != shape.height || prepared.width != shape.width {
      prepared = prepared.resized(height: shape.height, width: shape.width)
    }
    guard prepared.pixels.count == model.featureCount else {
      throw CommandFailure(
        message:
          "\(source): image has \(prepared.pixels.count) values, the model expects \(model.featureCount)",
        status: ExitStatus.badInput)
    }
    return prepared
  }
}

/// Draws a figure of `file`'s data; a rendering failure becomes one line naming that file
/// (Cairo's own message names no file).
func drawing<Drawn>(for file: String, _ draw: () throws(RenderError) -> Drawn) throws -> Drawn {
  do {
    return try draw()
  } catch {
    throw CommandFailure(message: "\(file): \(error.description)", status: ExitStatus.badInput)
  }
}

func sidecarPath(for pngPath: String) -> String {
  (pngPath.hasSuffix(".png") ? String(pngPath.dropLast(4)) : pngPath) + ".json"
}

/// Reads an image file (PNG or JPEG), reporting a decoding failure with the file's path.
func readImageFile(_ path: String, limits: ReadLimits = ReadLimits()) throws -> Image {
  do {
    return try ImageFileFormat.decode(FileBytes.readRaw(path), maxPixels: limits.maxPixels)
  } catch let error as CodecError {
    throw DataError.unreadableImage(path: path, reason: error.reason)
  }
}

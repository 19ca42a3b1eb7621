import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseModels

extension Dataset {
  /// The same rows with labels re-indexed into `classNames` (`Dataset.aligned(to:)`); a class
  /// the model does not know is an error naming `path`.
  func aligned(to classNames: [String], path: String) throws -> Dataset {
    do {
      return try aligned(to: classNames)
    } catch {
      switch error {
      case .unknownClass(let className, let knownClasses):
        throw CommandFailure(
          message:
            "\(path): class '\(className)' is not one of the model's classes (\(knownClasses.joined(separator: ", ")))",
          status: ExitStatus.badInput)
      }
    }
  }
}

/// Loads a MODEL argument: a Glimpse model file, an ONNX file (imported in memory with
/// `glimpse import`'s defaults) or `cmd:COMMAND`, a model behind a command
/// (`CommandClassifier`, started with `external`'s timeout and batch size).
func loadModel(_ path: String, external: ExternalModelSettings = ExternalModelSettings()) throws
  -> (model: any Classifier, archive: ModelArchive)
{
  if let command = commandSpec(path) { return try startCommandModel(command, settings: external) }
  return try decodeModel(FileBytes.readRaw(path), path: path)
}

/// Decodes a model file's bytes, naming the file in the error. Bytes that are an ONNX model
/// (a path ending in `.onnx`, or bytes that are not a Glimpse model file but read as an ONNX
/// ModelProto) are imported with `glimpse import`'s defaults, and a line says so.
func decodeModel(_ bytes: [UInt8], path: String) throws -> (
  model: any Classifier, archive: ModelArchive
) {
  if ONNXImport.isONNX(bytes, path: path) {
    let classifier = try ONNXImport.classifier(bytes, path: path, settings: .init())
    print(
      "\(path): ONNX model imported in memory with glimpse import's defaults (\(ONNXImport.defaultsText(classifier))); use glimpse import for mean/std, BGR or class names"
    )
    return (classifier, classifier.archive())
  }
  do {
    return try ClassifierFile.decode(bytes)
  } catch {
    throw CommandFailure(message: "\(path): \(error.description)", status: ExitStatus.badInput)
  }
}

/// A MODEL argument with its model, archive and SHA-256 (of the file's bytes; of the command
/// text for `cmd:`), for the sidecars of explanations. The file's hash and decoding run side by
/// side: each takes a few hundred milliseconds for a 100 MB model.
func loadModelWithDigest(_ path: String, external: ExternalModelSettings) throws -> (
  model: any Classifier, archive: ModelArchive, sha256: String
) {
  if let command = commandSpec(path) {
    let (model, archive) = try startCommandModel(command, settings: external)
    return (model, archive, SHA256.hexDigest(Array(path.utf8)))
  }
  let bytes = try FileBytes.readRaw(path)
  let decoded = ParallelSlot<(model: any Classifier, archive: ModelArchive)>()
  let digest = ParallelSlot<String>()
  forkJoin(parts: 2) { part in
    if part == 0 {
      decoded.set(Result { try decodeModel(bytes, path: path) })
    } else {
      digest.set(.success(SHA256.hexDigest(bytes)))
    }
  }
  let (model, archive) = try decoded.get()
  return (model, archive, try digest.get())
}

/// Turns a model's recorded scoring failure (a model command that exited, stalled or answered
/// wrongly, see `CommandClassifier`) into the command's one-line error. Called after every
/// scoring call or item, so that no placeholder probabilities reach a result.
func checkModelAnswered(_ model: any Classifier) throws {
  if let recording = model as? any FailureRecording, let failure = recording.failure {
    throw CommandFailure(message: failure.description, status: ExitStatus.failure)
  }
}

/// A value computed on another thread of a `forkJoin`, read after the join.
final class ParallelSlot<Value>: @unchecked Sendable {
  private var result: Result<Value, any Error>?

  /// Stores the outcome (called by exactly one part, before the join).
  func set(_ outcome: Result<Value, any Error>) { result = outcome }

  /// The stored value, or the stored error thrown.
  func get() throws -> Value {
    guard let result else { throw CommandFailure(message: "internal: a parallel part did not run") }
    return try result.get()
  }
}

/// Refuses data whose width differs from the model's, naming both files.
func checkFeatureCount(_ data: Dataset, of dataPath: String, model: any Classifier, path: String)
  throws
{
  guard data.featureCount == model.featureCount else {
    throw CommandFailure(
      message:
        "\(dataPath): rows have \(data.featureCount) features, but \(path) was trained on \(model.featureCount)",
      status: ExitStatus.badInput)
  }
}

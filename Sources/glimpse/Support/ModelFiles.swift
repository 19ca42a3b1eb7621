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

/// Loads a model file.
func loadModel(_ path: String) throws -> (model: any Classifier, archive: ModelArchive) {
  try decodeModel(FileBytes.readRaw(path), path: path)
}

/// Decodes a model file's bytes, naming the file in the error.
func decodeModel(_ bytes: [UInt8], path: String) throws -> (
  model: any Classifier, archive: ModelArchive
) {
  do {
    return try ClassifierFile.decode(bytes)
  } catch {
    throw CommandFailure(message: "\(path): \(error.description)", status: ExitStatus.badInput)
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

import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseModels

extension SplitFile {
  /// Reads and checks the split at `path`.
  static func read(_ path: String) throws -> SplitFile {
    try decode(FileBytes.readRaw(path), path: path)
  }
}

extension Dataset {
  /// The same rows with labels re-indexed into `classNames` (a test set read on its own may list
  /// its classes differently); a class the model does not know is an error.
  func aligned(to classNames: [String], path: String) throws -> Dataset {
    guard classNames != self.classNames else { return self }
    // Model files refuse repeated class names; the first would win here.
    let index = Dictionary(classNames.enumerated().map { ($1, $0) }) { first, _ in first }
    var mapped: [Int] = []
    for label in labels {
      guard let target = index[self.classNames[label]] else {
        throw CommandFailure(
          message: "\(path): class '\(self.classNames[label])' is not one of the model's classes (\(classNames.joined(separator: ", ")))",
          status: ExitStatus.badInput)
      }
      mapped.append(target)
    }
    return relabelled(mapped, classNames: classNames)
  }
}

/// Loads a model file.
func loadModel(_ path: String) throws -> (model: any Classifier, archive: ModelArchive) {
  try decodeModel(FileBytes.readRaw(path), path: path)
}

/// Decodes a model file's bytes, naming the file in the error.
func decodeModel(_ bytes: [UInt8], path: String) throws -> (model: any Classifier, archive: ModelArchive) {
  do {
    return try ClassifierFile.decode(bytes)
  } catch {
    throw CommandFailure(message: "\(path): \(error.description)", status: ExitStatus.badInput)
  }
}

/// Refuses data whose width differs from the model's, naming both files.
func checkFeatureCount(_ data: Dataset, of dataPath: String, model: any Classifier, path: String) throws {
  guard data.featureCount == model.featureCount else {
    throw CommandFailure(
      message: "\(dataPath): rows have \(data.featureCount) features, but \(path) was trained on \(model.featureCount)",
      status: ExitStatus.badInput)
  }
}

import GlimpseCore

/// Reads a model file of any kind.
public enum ClassifierFile {
  /// The model kinds this Glimpse reads.
  public static var kinds: [String] { loaders.keys.sorted() }

  private static let loaders:
    [String: @Sendable (ModelArchive) throws(ModelError) -> any Classifier] = [
      SVMClassifier.kind: { archive throws(ModelError) in try SVMClassifier(archive: archive) },
      LogisticRegression.kind: { archive throws(ModelError) in
        try LogisticRegression(archive: archive)
      },
      KNearestNeighbors.kind: { archive throws(ModelError) in
        try KNearestNeighbors(archive: archive)
      },
      CNNClassifier.kind: { archive throws(ModelError) in try CNNClassifier(archive: archive) },
      ONNXClassifier.kind: { archive throws(ModelError) in try ONNXClassifier(archive: archive) },
    ]

  /// The model stored in `bytes`, with its archive (for the image shape and class names).
  /// - Throws: `ModelError` when the file is not a valid model: damaged, or with a field that
  ///   disagrees with the others or with the bytes present (the message names the field).
  public static func decode(_ bytes: [UInt8]) throws(ModelError) -> (
    model: any Classifier, archive: ModelArchive
  ) {
    let archive = try ModelArchive(decoding: bytes)
    guard let load = loaders[archive.kind] else {
      throw .corruptModelFile(
        "unknown model kind \(ModelArchive.quoted(archive.kind)) (this Glimpse reads \(kinds.joined(separator: ", ")))"
      )
    }
    return (try load(archive), archive)
  }
}

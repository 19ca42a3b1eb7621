import GlimpseData

extension SplitFile {
  /// Reads and checks the split at `path`.
  static func read(_ path: String) throws -> SplitFile {
    try decode(FileBytes.readRaw(path), path: path)
  }
}

import GlimpseCore

/// The front door: reads a dataset from a path, whatever its kind.
///
/// A directory is an image folder (`root/<class>/*.png|jpg`); a file whose bytes (after gzip)
/// start with an IDX header is MNIST IDX; any other file is a CSV table (plain, gzip or bzip2).
public enum DatasetReader {
  /// Reads the dataset at `path`, within `options.limits`; the reading says how table values
  /// were scaled and which folder files were skipped.
  /// - Throws: `DataError`.
  public static func read(
    _ path: String, options: ReadOptions = ReadOptions()
  ) throws -> DatasetReading {
    if ImageFolderReader.isDirectory(path) {
      return try ImageFolderReader.read(path, options: options)
    }
    let bytes = try FileBytes.read(path, limits: options.limits)
    if IDXReader.looksLikeIDX(bytes) {
      return try IDXReader.readWithScaling(path, bytes: bytes, options: options)
    }
    return try TableDatasetReader.readWithScaling(path, bytes: bytes, options: options)
  }
}

import GlimpseCore

/// The front door: reads a dataset from a path, whatever its kind.
///
/// A directory is an image folder (`root/<class>/*.png|jpg`); a file whose bytes (after gzip)
/// start with an IDX header is MNIST IDX; any other file is a CSV table (plain, gzip or bzip2).
public enum DatasetReader {
  /// Reads the dataset at `path`.
  /// - Throws: `DataError`.
  public static func read(
    _ path: String, options: ReadOptions = ReadOptions()
  ) throws -> DatasetReading {
    if ImageFolderReader.isDirectory(path) {
      return try ImageFolderReader.read(path, options: options)
    }
    let bytes = try FileBytes.read(path)
    if IDXReader.looksLikeIDX(bytes) {
      return DatasetReading(dataset: try IDXReader.read(path, bytes: bytes, options: options))
    }
    return DatasetReading(dataset: try TableDatasetReader.read(path, bytes: bytes, options: options))
  }
}

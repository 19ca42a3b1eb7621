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
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) || bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
      return try readImage(path, bytes: bytes, options: options)
    }
    if IDXReader.looksLikeIDX(bytes) {
      return try IDXReader.readWithScaling(path, bytes: bytes, options: options)
    }
    return try TableDatasetReader.readWithScaling(path, bytes: bytes, options: options)
  }

  /// A PNG or JPEG file given as the dataset: decoded (so a corrupt file or a header over
  /// `maxPixels` is reported as such, not parsed as a CSV table), then refused when labels are
  /// required, else read as one unlabelled row.
  static func readImage(
    _ path: String, bytes: [UInt8], options: ReadOptions
  ) throws -> DatasetReading {
    let image: Image
    do {
      image = try ImageFileFormat.decode(bytes, maxPixels: options.limits.maxPixels)
    } catch {
      throw DataError.unreadableImage(path: path, reason: error.reason)
    }
    guard !options.requireLabels else { throw DataError.singleImage(path: path) }
    // As a folder's images: alpha dropped, grey on request.
    let converted = image.converted(toChannels: options.gray || image.channels <= 2 ? 1 : 3)
    let dataset = Dataset(
      features: Matrix(rows: 1, columns: converted.shape.valueCount, storage: converted.pixels),
      labels: [0], classNames: [""], imageShape: converted.shape, sources: [path])
    return DatasetReading(dataset: dataset)
  }
}

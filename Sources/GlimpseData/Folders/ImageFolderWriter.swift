import GlimpseCore

/// Writes an image dataset as a folder `root/<class>/<row>.png|jpg`, the layout
/// `ImageFolderReader` reads, so every command also runs on folders.
public enum ImageFolderWriter {
  /// Writes every row of `dataset` as an image file, each atomically.
  ///
  /// File names are the zero-padded row number, so reading the folder back gives the rows of each
  /// class in their original order. A class name is used as a folder name with `/` replaced.
  /// - Parameters:
  ///   - fileNumbers: The number in each row's file name (default: the row number), e.g. the
  ///     rows' positions in a larger table the dataset was taken from.
  ///   - overwrite: Allow writing into a directory that already holds entries.
  ///   - progress: Called with the number of files written so far.
  /// - Returns: The paths written, in row order.
  /// - Throws: `DataError.notImages`, `.outputNotEmpty`, `.writeFailed`.
  public static func write(
    _ dataset: Dataset, to root: String, format: ImageFileFormat = .png, jpegQuality: Int = 90,
    fileNumbers: [Int]? = nil, overwrite: Bool = false, progress: (Int) -> Void = { _ in }
  ) throws -> [String] {
    guard let shape = dataset.imageShape else { throw DataError.notImages(path: root) }
    if !overwrite, let entries = ImageFolderReader.directoryEntries(root), !entries.isEmpty {
      throw DataError.outputNotEmpty(path: root)
    }
    let numbers = fileNumbers ?? Array(0..<dataset.count)
    precondition(numbers.count == dataset.count, "fileNumbers must have one entry per row")
    let digits = String(max(numbers.max() ?? 0, 0)).count
    var written: [String] = []
    written.reserveCapacity(dataset.count)
    for row in 0..<dataset.count {
      let folder = dataset.classNames[dataset.labels[row]].replacingAll("/", with: "_")
      let number = String(numbers[row])
      let name = String(repeating: "0", count: max(0, digits - number.count)) + number
      let path = "\(root)/\(folder)/\(name).\(format.fileExtension)"
      let image = Image(shape: shape, pixels: dataset.values(ofRow: row))
      let bytes: [UInt8]
      do {
        bytes = try format.encode(image, jpegQuality: jpegQuality)
      } catch {
        throw DataError.writeFailed(path: path, reason: error.reason)
      }
      try AtomicFile.write(bytes, to: path)
      written.append(path)
      progress(written.count)
    }
    return written
  }
}

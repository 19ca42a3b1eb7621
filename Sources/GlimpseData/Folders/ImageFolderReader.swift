import GlimpseCore
import Glibc

/// Reads an image folder laid out as `root/<class>/*.png|jpg|jpeg` into a dataset.
///
/// Classes are the subfolder names, sorted; files within a class are sorted by name. Images are
/// decoded in parallel. A file that cannot be decoded is skipped and reported, and reading goes
/// on. All images are brought to one channel count (grey when every image is grey, RGB when any
/// is colour, grey when `ReadOptions.gray`; alpha is dropped) and, when `ReadOptions.size` is
/// set, one size (antialiased bilinear, see `Image.resized`); otherwise their sizes must agree.
/// Pixels are scaled to [0, 1].
public enum ImageFolderReader {
  /// Reads the folder at `root`.
  /// - Throws: `DataError.fileNotFound`, `.noClassFolders`, `.emptyDataset`, `.singleClass`,
  ///   `.inconsistentImageSizes`.
  public static func read(
    _ root: String, options: ReadOptions = ReadOptions()
  ) throws -> DatasetReading {
    let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    guard let entries = directoryEntries(root) else { throw DataError.fileNotFound(path: root) }
    var classNames = entries.filter { isDirectory("\(root)/\($0)") }
    let flat = classNames.isEmpty && !options.requireLabels
    if flat { classNames = [""] }
    guard !classNames.isEmpty else {
      if entries.contains(where: { ImageFileFormat(pathExtensionOf: $0) != nil }) {
        throw DataError.noClassFolders(path: root)
      }
      throw DataError.emptyDataset(path: root)
    }
    var files: [(path: String, classIndex: Int)] = []
    for (classIndex, name) in classNames.enumerated() {
      let folder = flat ? root : "\(root)/\(name)"
      for file in directoryEntries(folder) ?? []
      where ImageFileFormat(pathExtensionOf: file) != nil && !isDirectory("\(folder)/\(file)") {
        files.append(("\(folder)/\(file)", classIndex))
      }
    }
    let decoded = parallelMap(files.count) { index -> Result<Image, CodecError> in
      do {
        return .success(try ImageFileFormat.decode(FileBytes.readRaw(files[index].path)))
      } catch let error as CodecError {
        return .failure(error)
      } catch {
        return .failure(CodecError(String(describing: error)))
      }
    }
    var images: [(image: Image, path: String, classIndex: Int)] = []
    var skipped: [SkippedFile] = []
    for (file, result) in zip(files, decoded) {
      switch result {
      case .success(let image): images.append((image, file.path, file.classIndex))
      case .failure(let error): skipped.append(SkippedFile(path: file.path, reason: error.reason))
      }
    }
    guard let first = images.first else { throw DataError.emptyDataset(path: root) }

    let channels = options.gray || images.allSatisfy({ $0.image.channels <= 2 }) ? 1 : 3
    let target: ImageShape
    if let size = options.size {
      target = ImageShape(height: size.height, width: size.width, channels: channels)
    } else {
      target = ImageShape(height: first.image.height, width: first.image.width, channels: channels)
      if let odd = images.first(where: {
        $0.image.height != target.height || $0.image.width != target.width
      }) {
        throw DataError.inconsistentImageSizes(
          path: odd.path, shape: odd.image.shape, firstPath: first.path, firstShape: first.image.shape)
      }
    }
    let rows = parallelMap(images.count) { index -> [Double] in
      var image = images[index].image.converted(toChannels: channels)
      if image.height != target.height || image.width != target.width {
        image = image.resized(height: target.height, width: target.width)
      }
      return image.pixels
    }
    // Only classes with at least one readable image become classes of the dataset.
    let present = Set(images.map(\.classIndex)).sorted()
    let remap = Dictionary(uniqueKeysWithValues: present.enumerated().map { ($1, $0) })
    let dataset = Dataset(
      features: Matrix(
        rows: rows.count, columns: target.valueCount, storage: rows.flatMap { $0 }),
      labels: images.map { remap[$0.classIndex]! }, classNames: present.map { classNames[$0] },
      imageShape: target, sources: images.map(\.path))
    try dataset.checkClasses(path: root, options: options)
    return DatasetReading(dataset: dataset, skipped: skipped)
  }

  /// Names in a directory, sorted, without hidden entries; `nil` when it cannot be opened.
  static func directoryEntries(_ path: String) -> [String]? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      if !name.hasPrefix(".") { names.append(name) }
    }
    return names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
  }

  static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }
}

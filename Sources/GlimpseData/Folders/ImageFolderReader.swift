import GlimpseCore
import Glibc

/// Reads an image folder laid out as `root/<class>/*.png|jpg|jpeg` into a dataset.
///
/// Classes are the subfolder names, sorted; each class folder is walked recursively with
/// `ImageFileWalker` (as torchvision's `ImageFolder` does; symbolic-link loops are entered once)
/// and its files are taken in name order. Images are decoded in parallel. A file that cannot be
/// read or decoded (a dangling link, no permission, corrupt data, a header over
/// `ReadLimits.maxPixels`) is skipped and reported, and reading goes on; the decoded images
/// together must fit a third of `ReadLimits.memoryBudget` (decoded, converted and gathered
/// copies are held at once). All images are brought to one channel count (grey when every image
/// is grey, RGB when any is colour, grey when `ReadOptions.gray`; alpha is dropped) and, when
/// `ReadOptions.size` is set, one size (antialiased bilinear, see `Image.resized`); otherwise
/// their sizes must agree. Pixels are scaled to [0, 1].
public enum ImageFolderReader {
  /// Reads the folder at `root`.
  /// - Throws: `DataError.fileNotFound`, `.noClassFolders`, `.emptyDataset`, `.singleClass`,
  ///   `.inconsistentImageSizes`, `.tooLarge`.
  public static func read(
    _ root: String, options: ReadOptions = ReadOptions()
  ) throws -> DatasetReading {
    let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    guard let entries = directoryEntries(root) else { throw DataError.fileNotFound(path: root) }
    let limits = options.limits
    if let size = options.size {
      let (pixels, overflow) = size.height.multipliedReportingOverflow(by: size.width)
      if overflow || pixels > limits.maxPixels {
        throw DataError.tooLarge(
          path: root,
          reason: "--size \(size.height)x\(size.width) is over the limit of \(limits.maxPixels) "
            + "pixels (--max-pixels)")
      }
    }
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
    var skipped: [SkippedFile] = []
    for (classIndex, name) in classNames.enumerated() {
      let walk = ImageFileWalker.imageFiles(under: flat ? root : "\(root)/\(name)")
      files += walk.files.map { ($0, classIndex) }
      skipped += walk.skipped
    }
    // Decoded a batch at a time, so that a folder too large for the memory budget is refused
    // once the budget is passed, not after every image is in memory.
    let budget = limits.memoryBudget / 3
    var decoded: [Result<Image, CodecError>] = []
    var decodedBytes = 0
    let batch = max(64, Parallelism.threadCount * 16)
    var next = 0
    while next < files.count {
      let range = next..<min(next + batch, files.count)
      let results = parallelMap(range.count) { index -> Result<Image, CodecError> in
        let path = files[range.lowerBound + index].path
        do {
          let bytes = try FileBytes.readRaw(path, maxBytes: limits.maxFileBytes)
          return .success(try ImageFileFormat.decode(bytes, maxPixels: limits.maxPixels))
        } catch let error as CodecError {
          return .failure(error)
        } catch let error as DataError {
          return .failure(CodecError(reasonWithoutPath(error, path: path)))
        } catch {
          return .failure(CodecError(String(describing: error)))
        }
      }
      for case .success(let image) in results {
        decodedBytes += image.shape.valueCount * MemoryLayout<Double>.stride
      }
      decoded += results
      if decodedBytes > budget {
        throw DataError.tooLarge(
          path: root,
          reason: "the first \(range.upperBound) images take \(byteCount(decodedBytes)) as "
            + "doubles, over a third of the \(byteCount(limits.memoryBudget)) memory budget "
            + "(--max-memory; pass --size to shrink them)")
      }
      next = range.upperBound
    }
    var images: [(image: Image, path: String, classIndex: Int)] = []
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
    var remap = [Int: Int]()
    for (position, classIndex) in present.enumerated() { remap[classIndex] = position }
    let dataset = Dataset(
      features: Matrix(
        rows: rows.count, columns: target.valueCount, storage: rows.flatMap { $0 }),
      labels: images.map { remap[$0.classIndex] ?? 0 }, classNames: present.map { classNames[$0] },
      imageShape: target, sources: images.map(\.path))
    try dataset.checkClasses(path: root, options: options)
    return DatasetReading(dataset: dataset, skipped: skipped)
  }

  /// Names in a directory, sorted, without hidden entries; `nil` when it cannot be opened.
  static func directoryEntries(_ path: String) -> [String]? {
    ImageFileWalker.sortedEntries(path)
  }

  /// A read error's reason without the path (the skipped-file line names the file already).
  static func reasonWithoutPath(_ error: DataError, path: String) -> String {
    let text = error.description
    return text.hasPrefix(path + ": ") ? String(text.dropFirst(path.count + 2)) : text
  }

  static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }
}

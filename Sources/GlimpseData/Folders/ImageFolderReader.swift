import Glibc
import GlimpseCore

/// Reads an image folder laid out as `root/<class>/*.png|jpg|jpeg` into a dataset.
///
/// Classes are the subfolder names, sorted; each class folder is walked recursively with
/// `ImageFileWalker` (as torchvision's `ImageFolder` does; symbolic-link loops are entered once)
/// and its files are taken in name order. Images are decoded in parallel. A file that cannot be
/// read or decoded (a dangling link, no permission, corrupt data, a header over
/// `ReadLimits.maxPixels`) is skipped and reported, and reading goes on; the decoded images
/// together must fit `ReadLimits.memoryBudget` (8-bit samples counted once: they are gathered
/// into the dataset batch by batch and released; others as doubles three times: decoded,
/// converted and gathered copies are held at once). All images are brought to one channel
/// count (grey when every image is grey, RGB when any is colour, grey when `ReadOptions.gray`;
/// alpha is dropped) and, when `ReadOptions.size` is set, one size (antialiased bilinear, see
/// `Image.resized`); otherwise their sizes must agree. Pixels are scaled to [0, 1]. When every image is 8-bit and neither
/// resized nor made grey from colour, the dataset keeps the 8-bit codes (`Dataset.pixelCodes`:
/// 1 byte a sample, the same values `Double(k) / 255`); otherwise it holds `Double` rows.
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
    // once the budget is passed, not after every image is in memory. 8-bit files (every JPEG,
    // most PNGs) stay 8-bit codes, 1 byte a sample, and are streamed into the dataset's rows as
    // they are decoded (`CodeStream`): the folder is held once. An image the stream cannot take
    // as it is (a colour image after grey ones, a 16-bit PNG, another size, colour to be made
    // grey) turns the rest of the read into the general path: every image decoded, then
    // converted and gathered.
    var stream: CodeStream?
    var images: [(samples: DecodedSamples?, path: String, classIndex: Int)] = []
    var heldBytes = 0
    let batch = max(64, Parallelism.threadCount * 16)
    var next = 0
    while next < files.count {
      let range = next..<min(next + batch, files.count)
      let results = parallelMap(range.count) { index -> Result<DecodedSamples, CodecError> in
        let path = files[range.lowerBound + index].path
        do {
          let bytes = try FileBytes.readRaw(path, maxBytes: limits.maxFileBytes)
          return .success(try ImageFileFormat.decodeSamples(bytes, maxPixels: limits.maxPixels))
        } catch let error as CodecError {
          return .failure(error)
        } catch let error as DataError {
          return .failure(CodecError(reasonWithoutPath(error, path: path)))
        } catch {
          return .failure(CodecError(String(describing: error)))
        }
      }
      for (offset, result) in results.enumerated() {
        let file = files[range.lowerBound + offset]
        switch result {
        case .failure(let error):
          skipped.append(SkippedFile(path: file.path, reason: error.reason))
        case .success(let samples):
          if images.isEmpty, stream == nil {
            stream = CodeStream(first: samples, options: options, capacity: files.count)
          }
          if stream?.append(samples, path: file.path, classIndex: file.classIndex) == true {
            continue
          }
          if let taken = stream {
            images = taken.samples()
            stream = nil
            heldBytes = images.reduce(0) { $0 + ($1.samples.map(held) ?? 0) }
          }
          images.append((samples, file.path, file.classIndex))
          heldBytes += held(samples)
        }
      }
      let total = heldBytes + (stream?.byteCount ?? 0)
      if total > limits.memoryBudget {
        throw DataError.tooLarge(
          path: root,
          reason: "the first \(range.upperBound) images take \(byteCount(total)) (8-bit "
            + "samples once, others as doubles three times: decoded, converted, gathered), over "
            + "the \(byteCount(limits.memoryBudget)) memory budget (--max-memory; pass --size to "
            + "shrink them)")
      }
      next = range.upperBound
    }
    if let stream {
      let dataset = stream.dataset(classNames: classNames)
      try dataset.checkClasses(path: root, options: options)
      return DatasetReading(dataset: dataset, skipped: skipped)
    }
    guard let first = images.first, let firstShape = first.samples?.shape else {
      throw DataError.emptyDataset(path: root)
    }

    let channels =
      options.gray || images.allSatisfy({ ($0.samples?.shape.channels ?? 1) <= 2 }) ? 1 : 3
    let target: ImageShape
    if let size = options.size {
      target = ImageShape(height: size.height, width: size.width, channels: channels)
    } else {
      target = ImageShape(height: firstShape.height, width: firstShape.width, channels: channels)
      if let odd = images.first(where: {
        $0.samples?.shape.height != target.height || $0.samples?.shape.width != target.width
      }), let oddShape = odd.samples?.shape {
        throw DataError.inconsistentImageSizes(
          path: odd.path, shape: oddShape, firstPath: first.path, firstShape: firstShape)
      }
    }
    let (labels, presentNames) = presentClasses(images.map(\.classIndex), classNames: classNames)
    let sources = images.map(\.path)
    let rows: FeatureRows
    if images.allSatisfy({ keepsCodes($0.samples, target: target) }) {
      rows = .pixels(gatherCodes(&images, target: target, batch: batch))
    } else {
      // Resized or colour-to-grey images are no longer 8-bit levels: `Double` rows, as read.
      let (bytes, overflow) = images.count.multipliedReportingOverflow(
        by: target.valueCount * MemoryLayout<Double>.stride)
      if overflow || bytes > limits.memoryBudget / 3 {
        throw DataError.tooLarge(
          path: root,
          reason: "\(images.count) images of \(target) take \(byteCount(bytes)) as doubles, over "
            + "a third of the \(byteCount(limits.memoryBudget)) memory budget (--max-memory; pass "
            + "--size to shrink them)")
      }
      rows = .doubles(gatherDoubles(&images, target: target, batch: batch))
    }
    let dataset = Dataset(
      rows: rows, labels: labels, classNames: presentNames,
      imageShape: target, sources: sources)
    try dataset.checkClasses(path: root, options: options)
    return DatasetReading(dataset: dataset, skipped: skipped)
  }

  /// Labels re-indexed to the classes that have at least one readable image (only those
  /// become classes of the dataset), and those classes' names.
  static func presentClasses(
    _ classIndices: [Int], classNames: [String]
  ) -> (labels: [Int], names: [String]) {
    let present = Set(classIndices).sorted()
    var remap = [Int: Int]()
    for (position, classIndex) in present.enumerated() { remap[classIndex] = position }
    return (classIndices.map { remap[$0] ?? 0 }, present.map { classNames[$0] })
  }

  /// Bytes a decoded image counts against the memory budget: its 8-bit codes once (they are
  /// gathered into the dataset and released batch by batch), other samples as doubles three
  /// times (decoded, converted, gathered copies can be held at once).
  static func held(_ samples: DecodedSamples) -> Int {
    switch samples {
    case .eightBit(_, let codes): codes.count
    case .image(let image): 3 * image.pixels.count * MemoryLayout<Double>.stride
    }
  }

  /// Whether an image's codes give its row of `target` exactly, as codes: 8-bit samples of the
  /// target size whose channels change only by dropping alpha or repeating grey (as
  /// `Image.converted(toChannels:)` does, value for value); a colour image made grey is a
  /// weighted sum, no longer an 8-bit level.
  static func keepsCodes(_ samples: DecodedSamples?, target: ImageShape) -> Bool {
    guard case .eightBit(let shape, _)? = samples else { return false }
    return shape.height == target.height && shape.width == target.width
      && (target.channels == 3 || shape.channels <= 2)
  }

  /// The 8-bit rows of `images` (every one `keepsCodes`), written into one buffer a batch at a
  /// time; each batch's decoded codes are released once copied, so the folder is held about once.
  static func gatherCodes(
    _ images: inout [(samples: DecodedSamples?, path: String, classIndex: Int)],
    target: ImageShape, batch: Int
  ) -> PixelRows {
    let codes: [UInt8] = gatherRows(&images, columns: target.valueCount, batch: batch) {
      samples, row in
      guard case .eightBit(let shape, let source) = samples else {
        preconditionFailure("checked by keepsCodes")
      }
      copyCodes(source, channels: shape.channels, into: row, target: target)
    }
    return PixelRows(rows: images.count, columns: target.valueCount, codes: codes)
  }

  /// `images.count` rows of `columns` values in one buffer, row i written by `write` from image
  /// i's decoded samples: a batch of images at a time on the worker threads, each batch's
  /// samples released once written, so the decoded folder and its rows are not held twice.
  static func gatherRows<Value>(
    _ images: inout [(samples: DecodedSamples?, path: String, classIndex: Int)],
    columns: Int, batch: Int,
    write: (DecodedSamples, UnsafeMutablePointer<Value>) -> Void
  ) -> [Value] {
    let count = images.count
    return [Value](unsafeUninitializedCapacity: count * columns) { buffer, initialized in
      guard let base = buffer.baseAddress else { return }
      let rowsPointer = UncheckedPointer(base)
      var start = 0
      while start < count {
        let range = start..<min(start + batch, count)
        let group = range.map { images[$0].samples }
        _ = parallelMap(range.count) { index -> Int in
          guard let samples = group[index] else { preconditionFailure("every image is decoded") }
          write(samples, rowsPointer.base + (range.lowerBound + index) * columns)
          return 0
        }
        for index in range { images[index].samples = nil }
        start = range.upperBound
      }
      initialized = count * columns
    }
  }

  /// One image's codes with `channels` per pixel, as `target.channels` per pixel: copied, alpha
  /// dropped, or grey repeated into RGB.
  static func copyCodes(
    _ source: [UInt8], channels: Int, into row: UnsafeMutablePointer<UInt8>, target: ImageShape
  ) {
    let pixels = target.pixelCount
    let wanted = target.channels
    source.withUnsafeBufferPointer { source in
      if channels == wanted {
        for index in 0..<pixels * wanted { row[index] = source[index] }
      } else if channels <= 2 {
        for p in 0..<pixels {
          for c in 0..<wanted { row[p * wanted + c] = source[p * channels] }
        }
      } else {
        for p in 0..<pixels {
          for c in 0..<wanted { row[p * wanted + c] = source[p * channels + c] }
        }
      }
    }
  }

  /// The `Double` rows of `images` at `target` (channels converted, then resized), a batch at a
  /// time, releasing each batch's decoded samples once written.
  static func gatherDoubles(
    _ images: inout [(samples: DecodedSamples?, path: String, classIndex: Int)],
    target: ImageShape, batch: Int
  ) -> Matrix {
    let columns = target.valueCount
    let values: [Double] = gatherRows(&images, columns: columns, batch: batch) { samples, row in
      var image = samples.image.converted(toChannels: target.channels)
      if image.height != target.height || image.width != target.width {
        image = image.resized(height: target.height, width: target.width)
      }
      image.pixels.withUnsafeBufferPointer { pixels in
        for c in 0..<columns { row[c] = pixels[c] }
      }
    }
    return Matrix(rows: images.count, columns: columns, storage: values)
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

/// The rows of a folder's 8-bit images, appended as they are decoded, at the shape the first
/// one sets: its size (or `ReadOptions.size`) and its channels (grey when it is grey or
/// `ReadOptions.gray`, else RGB). Takes an image only when its codes give its row exactly
/// (`ImageFolderReader.keepsCodes`) and it keeps the channel rule (a colour image after grey
/// ones would make every row RGB: refused, the reader goes the general way).
struct CodeStream {
  /// Every row's shape.
  let target: ImageShape
  private var codes: [UInt8]
  private var paths: [String] = []
  private var classIndices: [Int] = []

  /// A stream shaped by the first decoded image; `capacity` images are reserved (address
  /// space only: untouched pages take no memory).
  init(first: DecodedSamples, options: ReadOptions, capacity: Int) {
    let shape = first.shape
    let channels = options.gray || shape.channels <= 2 ? 1 : 3
    target = ImageShape(
      height: options.size?.height ?? shape.height, width: options.size?.width ?? shape.width,
      channels: channels)
    codes = []
    let (bytes, overflow) = capacity.multipliedReportingOverflow(by: target.valueCount)
    if !overflow { codes.reserveCapacity(bytes) }
  }

  /// Bytes of rows held.
  var byteCount: Int { codes.count }

  /// Appends the image's row when the stream can take it as it is; false otherwise.
  mutating func append(_ samples: DecodedSamples, path: String, classIndex: Int) -> Bool {
    // `keepsCodes` refuses colour for a grey stream: made grey (`gray`) it is no longer 8-bit
    // levels; otherwise every row would have to become RGB.
    guard ImageFolderReader.keepsCodes(samples, target: target),
      case .eightBit(let shape, let source) = samples
    else { return false }
    let start = codes.count
    codes.append(contentsOf: repeatElement(0, count: target.valueCount))
    codes.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      ImageFolderReader.copyCodes(
        source, channels: shape.channels, into: base + start, target: target)
    }
    paths.append(path)
    classIndices.append(classIndex)
    return true
  }

  /// The rows taken so far as decoded images of the stream's shape, for the general path (the
  /// same rows come out of it: alpha is dropped there too).
  func samples() -> [(samples: DecodedSamples?, path: String, classIndex: Int)] {
    let columns = target.valueCount
    return paths.indices.map { row in
      let samples = DecodedSamples.eightBit(
        shape: target, codes: Array(codes[row * columns..<(row + 1) * columns]))
      return (samples, paths[row], classIndices[row])
    }
  }

  /// The dataset of the rows taken.
  func dataset(classNames: [String]) -> Dataset {
    let (labels, names) = ImageFolderReader.presentClasses(classIndices, classNames: classNames)
    return Dataset(
      rows: .pixels(PixelRows(rows: paths.count, columns: target.valueCount, codes: codes)),
      labels: labels, classNames: names, imageShape: target, sources: paths)
  }
}

/// A buffer handed to worker threads that each write their own rows.
private struct UncheckedPointer<T>: @unchecked Sendable {
  let base: UnsafeMutablePointer<T>
  init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}

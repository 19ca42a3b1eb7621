import GlimpseCore

/// Reads MNIST's IDX files (plain or gzip): an image file of shape `[n, height, width]` or
/// `[n, height, width, channels]` and a label file of shape `[n]`.
///
/// Format (LeCun et al., the MNIST database page): two zero bytes, a type byte (0x08 unsigned
/// byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a dimension
/// count, then each dimension as a big-endian 32-bit integer, then the data, big-endian.
/// Unsigned-byte images are scaled by 1/255 unless `ReadOptions.raw`.
public enum IDXReader {
  /// An IDX array: its dimensions and values.
  public struct Array: Sendable {
    /// Sizes of the dimensions, outermost first.
    public var dimensions: [Int]
    /// The values in row-major order.
    public var values: [Double]
    /// Whether the values were unsigned bytes.
    public var isUnsignedBytes: Bool
  }

  /// Whether bytes begin with an IDX header.
  public static func looksLikeIDX(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 4 && bytes[0] == 0 && bytes[1] == 0
      && [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(bytes[2]) && (1...4).contains(bytes[3])
  }

  /// Parses an IDX file's bytes.
  /// - Throws: `DataError.malformedIDX`.
  public static func parse(_ bytes: [UInt8], path: String) throws -> Array {
    guard looksLikeIDX(bytes) else {
      throw DataError.malformedIDX(path: path, reason: "bad magic number")
    }
    let type = bytes[2]
    let dimensionCount = Int(bytes[3])
    guard bytes.count >= 4 + 4 * dimensionCount else {
      throw DataError.malformedIDX(path: path, reason: "header cut short")
    }
    var dimensions = [Int]()
    for d in 0..<dimensionCount {
      let offset = 4 + 4 * d
      dimensions.append(Int(bigEndian32(bytes, offset)))
    }
    let count = dimensions.reduce(1, *)
    let width = [0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8][type]!
    let start = 4 + 4 * dimensionCount
    guard bytes.count - start == count * width else {
      throw DataError.malformedIDX(
        path: path,
        reason: "header promises \(count) values (\(count * width) bytes), file holds "
          + "\(bytes.count - start) bytes")
    }
    var values = [Double](repeating: 0, count: count)
    for index in 0..<count {
      let offset = start + index * width
      switch type {
      case 0x08: values[index] = Double(bytes[offset])
      case 0x09: values[index] = Double(Int8(bitPattern: bytes[offset]))
      case 0x0B:
        values[index] = Double(Int16(bitPattern: UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])))
      case 0x0C: values[index] = Double(Int32(bitPattern: bigEndian32(bytes, offset)))
      case 0x0D: values[index] = Double(Float(bitPattern: bigEndian32(bytes, offset)))
      default:
        let high = UInt64(bigEndian32(bytes, offset)), low = UInt64(bigEndian32(bytes, offset + 4))
        values[index] = Double(bitPattern: high << 32 | low)
      }
    }
    return Array(dimensions: dimensions, values: values, isUnsignedBytes: type == 0x08)
  }

  /// Reads an IDX image file and its label file (`ReadOptions.labelsPath`) into a dataset.
  /// - Throws: `DataError`.
  public static func read(_ path: String, options: ReadOptions = ReadOptions()) throws -> Dataset {
    try read(path, bytes: FileBytes.read(path), options: options)
  }

  /// Reads an IDX image file from bytes already read (and decompressed) from `path`.
  public static func read(_ path: String, bytes: [UInt8], options: ReadOptions) throws -> Dataset {
    let images = try parse(bytes, path: path)
    guard images.dimensions.count >= 2 else {
      throw DataError.malformedIDX(path: path, reason: "an image file needs 2 or more dimensions")
    }
    let rows = images.dimensions[0]
    let labelStrings: [String]
    if let labelsPath = options.labelsPath {
      let labels = try parse(FileBytes.read(labelsPath), path: labelsPath)
      guard labels.dimensions.count == 1 else {
        throw DataError.malformedIDX(path: labelsPath, reason: "a label file has one dimension")
      }
      guard labels.dimensions[0] == rows else {
        throw DataError.labelCountMismatch(
          path: path, labels: labels.dimensions[0], labelsPath: labelsPath, rows: rows)
      }
      labelStrings = labels.values.map { String(Int($0)) }
    } else if !options.requireLabels {
      labelStrings = [String](repeating: "", count: rows)
    } else {
      throw DataError.missingLabels(path: path, labelColumn: options.labelColumn)
    }
    let columns = rows == 0 ? 0 : images.values.count / rows
    var options = options
    if options.shape == nil, images.dimensions.count >= 3 {
      options.shape = ImageShape(
        height: images.dimensions[1], width: images.dimensions[2],
        channels: images.dimensions.count == 4 ? images.dimensions[3] : 1)
    }
    guard rows > 0 else { throw DataError.emptyDataset(path: path) }
    return try TableDatasetReader.assemble(
      values: Matrix(rows: rows, columns: columns, storage: images.values),
      labelStrings: labelStrings,
      sources: (0..<rows).map { "\(path)#\($0)" }, path: path, options: options,
      bytesAreImages: images.isUnsignedBytes)
  }

  private static func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
      | UInt32(bytes[offset + 3])
  }
}

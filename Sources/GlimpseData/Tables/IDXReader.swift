import GlimpseCore

/// Reads MNIST's IDX files (plain or gzip): an image file of shape `[n, height, width]` or
/// `[n, height, width, channels]` and a label file of shape `[n]`.
///
/// Format (LeCun et al., the MNIST database page): two zero bytes, a type byte (0x08 unsigned
/// byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a dimension
/// count, then each dimension as a big-endian 32-bit integer, then the data, big-endian.
/// Images are scaled as `ReadOptions.scale` says (by 1/255 for MNIST's bytes by default).
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

  /// The header of an IDX file, checked against the bytes present (with overflow-checked
  /// products): type byte, dimensions, offset of the data, bytes per value, value count.
  static func header(
    _ bytes: [UInt8], path: String
  ) throws -> (type: UInt8, dimensions: [Int], start: Int, width: Int, count: Int) {
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
    let width: Int
    switch type {
    case 0x08, 0x09: width = 1
    case 0x0B: width = 2
    case 0x0C, 0x0D: width = 4
    default: width = 8
    }
    guard !dimensions.contains(0) else {
      throw DataError.malformedIDX(
        path: path,
        reason: "a dimension is 0 (\(dimensions.map(String.init).joined(separator: " × ")))")
    }
    let start = 4 + 4 * dimensionCount
    let present = bytes.count - start
    let claimed = dimensions.map(String.init).joined(separator: " × ")
    // The product of up to four 32-bit sizes can overflow Int: multiply with checks.
    var count = 1
    var overflow = false
    for dimension in dimensions {
      let (product, overflowed) = count.multipliedReportingOverflow(by: dimension)
      overflow = overflow || overflowed
      count = product
    }
    let (byteLength, overflowed) = count.multipliedReportingOverflow(by: width)
    guard !overflow, !overflowed, byteLength == present else {
      throw DataError.malformedIDX(
        path: path,
        reason: "header promises \(claimed) values of \(width) byte\(width == 1 ? "" : "s"), "
          + "file holds \(present) bytes of data")
    }
    return (type, dimensions, start, width, count)
  }

  /// Parses an IDX file's bytes. Dimensions are checked against the bytes present (with
  /// overflow-checked products) and against the memory budget before the values are allocated.
  /// - Throws: `DataError.malformedIDX`, `.tooLarge`.
  public static func parse(
    _ bytes: [UInt8], path: String, limits: ReadLimits = ReadLimits()
  ) throws -> Array {
    let (type, dimensions, start, width, count) = try header(bytes, path: path)
    let claimed = dimensions.map(String.init).joined(separator: " × ")
    // One double per value.
    guard count <= limits.memoryBudget / 8 else {
      throw DataError.tooLarge(
        path: path,
        reason: "\(claimed) values need \(byteCount(count * 8)) as doubles, over the "
          + "\(byteCount(limits.memoryBudget)) memory budget (--max-memory)")
    }
    var values = [Double](repeating: 0, count: count)
    for index in 0..<count {
      let offset = start + index * width
      switch type {
      case 0x08: values[index] = Double(bytes[offset])
      case 0x09: values[index] = Double(Int8(bitPattern: bytes[offset]))
      case 0x0B:
        values[index] = Double(
          Int16(bitPattern: UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])))
      case 0x0C: values[index] = Double(Int32(bitPattern: bigEndian32(bytes, offset)))
      case 0x0D: values[index] = Double(Float(bitPattern: bigEndian32(bytes, offset)))
      default:
        let high = UInt64(bigEndian32(bytes, offset))
        let low = UInt64(bigEndian32(bytes, offset + 4))
        values[index] = Double(bitPattern: high << 32 | low)
      }
    }
    if width >= 4, let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw DataError.malformedIDX(
        path: path, reason: "value \(bad) is \(values[bad]), not a finite number")
    }
    return Array(dimensions: dimensions, values: values, isUnsignedBytes: type == 0x08)
  }

  /// Reads an IDX image file and its label file (`ReadOptions.labelsPath`) into a dataset.
  /// - Throws: `DataError`.
  public static func read(_ path: String, options: ReadOptions = ReadOptions()) throws -> Dataset {
    try readWithScaling(path, bytes: FileBytes.read(path, limits: options.limits), options: options)
      .dataset
  }

  /// Reads an IDX image file from bytes already read (and decompressed) from `path`.
  public static func read(_ path: String, bytes: [UInt8], options: ReadOptions) throws -> Dataset {
    try readWithScaling(path, bytes: bytes, options: options).dataset
  }

  /// Reads an IDX image file from bytes already read, with the scaling applied.
  static func readWithScaling(
    _ path: String, bytes: [UInt8], options: ReadOptions
  ) throws -> DatasetReading {
    let header = try header(bytes, path: path)
    guard header.dimensions.count >= 2 else {
      throw DataError.malformedIDX(path: path, reason: "an image file needs 2 or more dimensions")
    }
    let rows = header.dimensions[0]
    let labelStrings = try readLabels(rows: rows, path: path, options: options)
    guard rows > 0 else { throw DataError.emptyDataset(path: path) }
    var options = options
    if header.dimensions.count == 4, !(1...4).contains(header.dimensions[3]) {
      throw DataError.malformedIDX(
        path: path, reason: "\(header.dimensions[3]) channels; an image has 1 to 4")
    }
    if options.shape == nil, header.dimensions.count >= 3 {
      options.shape = ImageShape(
        height: header.dimensions[1], width: header.dimensions[2],
        channels: header.dimensions.count == 4 ? header.dimensions[3] : 1)
    }
    if header.type == 0x08,
      let reading = try readBytes(
        bytes, header: header, labelStrings: labelStrings, path: path, options: options)
    {
      return reading
    }
    let images = try parse(bytes, path: path, limits: options.limits)
    return try TableDatasetReader.assemble(
      values: Matrix(rows: rows, columns: images.values.count / rows, storage: images.values),
      labelStrings: labelStrings,
      sources: (0..<rows).map { "\(path)#\($0)" }, path: path, options: options,
      labelsPath: options.labelsPath)
  }

  /// Unsigned bytes scaled by 255 (`--scale 255`, or `auto` with a largest value over 16) as
  /// 8-bit rows, straight from the file's bytes: `Double(k) / 255` is what the `Double` path
  /// computes (`Double(k)` divided by 255), so the values are the same bits, at 1 byte each.
  /// `nil` when another scaling applies (the caller reads doubles then).
  static func readBytes(
    _ bytes: [UInt8], header: (type: UInt8, dimensions: [Int], start: Int, width: Int, count: Int),
    labelStrings: [String], path: String, options: ReadOptions
  ) throws -> DatasetReading? {
    let rows = header.dimensions[0]
    let columns = header.count / rows
    let shape: ImageShape?
    if let given = options.shape {
      guard given.valueCount == columns else {
        throw DataError.shapeMismatch(path: path, shape: given, columns: columns)
      }
      shape = given
    } else {
      shape = ImageShape.inferredSquare(valueCount: columns)
    }
    var low = UInt8.max
    var high = UInt8.min
    bytes.withUnsafeBufferPointer { buffer in
      for index in header.start..<buffer.count {
        low = min(low, buffer[index])
        high = max(high, buffer[index])
      }
    }
    // The scaling rule sees only the range and that every value is an integer, as here.
    let scaling = TableDatasetReader.chooseScaling(
      [Double(low), Double(high)], isImage: shape != nil, mode: options.scale)
    guard scaling?.divisor == 255 else { return nil }
    guard header.count <= options.limits.memoryBudget else {
      throw DataError.tooLarge(
        path: path,
        reason: "\(header.dimensions.map(String.init).joined(separator: " × ")) values need "
          + "\(byteCount(header.count)), over the \(byteCount(options.limits.memoryBudget)) "
          + "memory budget (--max-memory)")
    }
    let codes = PixelRows(rows: rows, columns: columns, codes: Swift.Array(bytes[header.start...]))
    let (labels, classNames) = LabelEncoder.encode(labelStrings)
    let dataset = Dataset(
      rows: .pixels(codes), labels: labels, classNames: classNames, imageShape: shape,
      sources: (0..<rows).map { "\(path)#\($0)" })
    try dataset.checkClasses(path: path, labelsPath: options.labelsPath, options: options)
    return DatasetReading(dataset: dataset, scaling: scaling)
  }

  /// The label of each of `rows` images as text, from `ReadOptions.labelsPath`, or empty labels
  /// when none are required.
  static func readLabels(rows: Int, path: String, options: ReadOptions) throws -> [String] {
    if let labelsPath = options.labelsPath {
      let labels = try parse(
        FileBytes.read(labelsPath, limits: options.limits), path: labelsPath,
        limits: options.limits)
      guard labels.dimensions.count == 1 else {
        throw DataError.malformedIDX(path: labelsPath, reason: "a label file has one dimension")
      }
      guard labels.dimensions[0] == rows else {
        throw DataError.labelCountMismatch(
          path: path, labels: labels.dimensions[0], labelsPath: labelsPath, rows: rows)
      }
      // Float labels may be NaN or huge: spelled as numbers, never converted to Int.
      return labels.values.map { formatNumber($0) }
    } else if !options.requireLabels {
      return [String](repeating: "", count: rows)
    } else {
      throw DataError.missingLabels(path: path, labelColumn: options.labelColumn)
    }
  }

  private static func bigEndian32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
      | UInt32(bytes[offset + 3])
  }
}

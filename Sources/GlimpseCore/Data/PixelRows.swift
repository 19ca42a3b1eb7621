/// Rows of 8-bit image samples: value `(row, column)` is `Double(code) / 255`.
///
/// Why: an image folder read as `Double` costs 8 bytes per sample (10 000 colour images of
/// 224×224 are 12 GB); its samples are 8-bit codes, so 1 byte each holds them exactly. The
/// readers scale a byte `k` as `Double(k) / 255` (`Image.init(shape:eightBitSamples:)`, the IDX
/// reader's `--scale 255`), and `levels[k]` is that very division, so every value read back from
/// here is the same bits the `Double` path held.
public struct PixelRows: Sendable, Equatable {
  /// Number of rows.
  public let rows: Int
  /// Codes per row.
  public let columns: Int
  /// The codes, row after row; `rows * columns` of them.
  public var codes: [UInt8]

  /// `Double(k) / 255` for k in 0...255: the value of code k, as the readers compute it.
  public static let levels: [Double] = (0...255).map { Double($0) / 255 }

  /// Wraps row-major codes.
  /// - Precondition: `codes.count == rows * columns`.
  public init(rows: Int, columns: Int, codes: [UInt8]) {
    precondition(rows >= 0 && columns >= 0, "rows (\(rows)) and columns (\(columns)) must be ≥ 0")
    let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
    precondition(
      !overflow && codes.count == count,
      "codes.count (\(codes.count)) != rows (\(rows)) * columns (\(columns))")
    self.rows = rows
    self.columns = columns
    self.codes = codes
  }

  /// The codes of `matrix`, or `nil` when some value is not exactly `Double(k) / 255` for a k in
  /// 0...255 (then only the `Double` matrix holds the data exactly).
  public init?(exactly matrix: Matrix) {
    guard let codes = Self.codes(exactly: matrix.storage[...]) else { return nil }
    self.init(rows: matrix.rows, columns: matrix.columns, codes: codes)
  }

  /// The codes of `values`, or `nil` when some value is not exactly a level `Double(k) / 255`.
  public static func codes(exactly values: ArraySlice<Double>) -> [UInt8]? {
    var codes = [UInt8](repeating: 0, count: values.count)
    let exact = values.withUnsafeBufferPointer { source in
      codes.withUnsafeMutableBufferPointer { target in
        levels.withUnsafeBufferPointer { levels in
          for index in source.indices {
            let value = source[index]
            // The range test comes first: it keeps the conversion in range and rejects NaN.
            guard value >= 0, value <= 1 else { return false }
            let code = Int(value * 255 + 0.5)
            // Bits, not ==: −0.0 equals 0.0 but is not what the readers produce.
            guard levels[code].bitPattern == value.bitPattern else { return false }
            target[index] = UInt8(code)
          }
          return true
        }
      }
    }
    return exact ? codes : nil
  }

  /// The codes of row `index`.
  public func row(_ index: Int) -> ArraySlice<UInt8> {
    precondition(index >= 0 && index < rows, "row \(index) out of 0..<\(rows)")
    return codes[index * columns..<(index + 1) * columns]
  }

  /// Row `index` as values `Double(k) / 255`.
  public func values(ofRow index: Int) -> [Double] {
    let row = row(index)
    return Self.levels.withUnsafeBufferPointer { levels in row.map { levels[Int($0)] } }
  }

  /// The rows at `indices`, in that order (repeats allowed), still 8-bit.
  public func selectingRows(_ indices: some Collection<Int>) -> PixelRows {
    var result = [UInt8]()
    result.reserveCapacity(indices.count * columns)
    for index in indices {
      precondition(index >= 0 && index < rows, "row \(index) out of 0..<\(rows)")
      result.append(contentsOf: codes[index * columns..<(index + 1) * columns])
    }
    return PixelRows(rows: indices.count, columns: columns, codes: result)
  }

  /// The contiguous rows `range`, still 8-bit.
  public func rows(_ range: Range<Int>) -> PixelRows {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of 0..<\(rows)")
    return PixelRows(
      rows: range.count, columns: columns,
      codes: Array(codes[range.lowerBound * columns..<range.upperBound * columns]))
  }

  /// The rows `range` (all by default) as a `Double` matrix of values `Double(k) / 255`: the
  /// matrix the `Double` path held, bit for bit. Costs 8 bytes per value: callers that can,
  /// take a chunk of rows at a time.
  public func doubles(rows range: Range<Int>? = nil) -> Matrix {
    let range = range ?? 0..<rows
    precondition(
      range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of 0..<\(rows)")
    let count = range.count * columns
    let offset = range.lowerBound * columns
    let storage = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
      codes.withUnsafeBufferPointer { source in
        Self.levels.withUnsafeBufferPointer { levels in
          for index in 0..<count { buffer[index] = levels[Int(source[offset + index])] }
        }
      }
      initialized = count
    }
    return Matrix(rows: range.count, columns: columns, storage: storage)
  }

  /// Smallest and largest value, `Double(k) / 255`, or `nil` when there are no values.
  public var valueRange: ClosedRange<Double>? {
    guard !codes.isEmpty else { return nil }
    var low = UInt8.max
    var high = UInt8.min
    codes.withUnsafeBufferPointer { codes in
      for code in codes {
        low = min(low, code)
        high = max(high, code)
      }
    }
    return Self.levels[Int(low)]...Self.levels[Int(high)]
  }
}

/// A dataset's feature rows as they are stored: `Double` values, or 8-bit image codes.
///
/// Tables keep `Double`; image folders and MNIST's IDX bytes keep the codes (1 byte per sample
/// instead of 8), and every `Double` read from them is the value the `Double` path held
/// (`PixelRows.levels`).
public enum FeatureRows: Sendable, Equatable {
  /// Values as read (tables, resized or converted images).
  case doubles(Matrix)
  /// 8-bit codes, value `Double(k) / 255`.
  case pixels(PixelRows)

  /// Number of rows.
  public var rows: Int {
    switch self {
    case .doubles(let matrix): matrix.rows
    case .pixels(let pixels): pixels.rows
    }
  }

  /// Values per row.
  public var columns: Int {
    switch self {
    case .doubles(let matrix): matrix.columns
    case .pixels(let pixels): pixels.columns
    }
  }

  /// All rows as a `Double` matrix: the stored one, or (for codes) a new one of 8 bytes a value.
  public func doubles() -> Matrix {
    switch self {
    case .doubles(let matrix): matrix
    case .pixels(let pixels): pixels.doubles()
    }
  }

  /// The contiguous rows `range`, kept as they are stored.
  public func rows(_ range: Range<Int>) -> FeatureRows {
    switch self {
    case .doubles(let matrix):
      precondition(
        range.lowerBound >= 0 && range.upperBound <= matrix.rows,
        "rows \(range) out of 0..<\(matrix.rows)")
      if range == 0..<matrix.rows { return self }
      return .doubles(
        Matrix(
          rows: range.count, columns: matrix.columns,
          storage: Array(
            matrix.storage[range.lowerBound * matrix.columns..<range.upperBound * matrix.columns])))
    case .pixels(let pixels):
      return range == 0..<pixels.rows ? self : .pixels(pixels.rows(range))
    }
  }

  /// The rows at `indices`, in that order, kept as they are stored.
  public func selectingRows(_ indices: some Collection<Int>) -> FeatureRows {
    switch self {
    case .doubles(let matrix): .doubles(matrix.selectingRows(indices))
    case .pixels(let pixels): .pixels(pixels.selectingRows(indices))
    }
  }

  /// Row `index` as `Double` values.
  public func values(ofRow index: Int) -> [Double] {
    switch self {
    case .doubles(let matrix): Array(matrix.row(index))
    case .pixels(let pixels): pixels.values(ofRow: index)
    }
  }

  /// Smallest and largest value, or `nil` when there are none (a pass over bytes for codes).
  public var valueRange: ClosedRange<Double>? {
    switch self {
    case .doubles(let matrix): matrix.valueRange
    case .pixels(let pixels): pixels.valueRange
    }
  }
}

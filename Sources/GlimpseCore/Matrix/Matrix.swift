/// A dense, row-major matrix of `Double`, the storage for feature tables and probabilities.
///
/// Element `(row, column)` lives at `storage[row * columns + column]`, so a row is a contiguous
/// slice that BLAS can read directly. The type is a value: copies share storage until written.
public struct Matrix: Sendable, Equatable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// The elements, row after row; `rows * columns` of them.
  public var storage: [Double]

  /// Creates a matrix with every element set to `value`.
  public init(rows: Int, columns: Int, repeating value: Double = 0) {
    precondition(rows >= 0 && columns >= 0, "rows (\(rows)) and columns (\(columns)) must be ≥ 0")
    // Callers size matrices from validated counts; this turns an overflow into a clear message.
    let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
    precondition(!overflow, "rows (\(rows)) × columns (\(columns)) overflows")
    self.rows = rows
    self.columns = columns
    self.storage = [Double](repeating: value, count: count)
  }

  /// Wraps row-major storage.
  /// - Precondition: `storage.count == rows * columns`.
  public init(rows: Int, columns: Int, storage: [Double]) {
    precondition(
      storage.count == rows * columns,
      "storage.count (\(storage.count)) != rows (\(rows)) * columns (\(columns))")
    self.rows = rows
    self.columns = columns
    self.storage = storage
  }

  /// Creates a matrix from nested rows, all of the same length (convenient in tests).
  public init(_ nestedRows: [[Double]]) {
    let columns = nestedRows.first?.count ?? 0
    for (index, row) in nestedRows.enumerated() {
      precondition(
        row.count == columns, "row \(index) has \(row.count) values, expected \(columns)")
    }
    self.init(rows: nestedRows.count, columns: columns, storage: nestedRows.flatMap { $0 })
  }

  /// The element at `(row, column)`.
  @inlinable
  public subscript(row: Int, column: Int) -> Double {
    get { storage[row * columns + column] }
    set { storage[row * columns + column] = newValue }
  }

  /// The elements of one row, in column order.
  public func row(_ index: Int) -> ArraySlice<Double> {
    precondition(index >= 0 && index < rows, "row \(index) out of 0..<\(rows)")
    return storage[index * columns..<(index + 1) * columns]
  }

  /// A new matrix made of the given rows, in the given order (repeats allowed).
  public func selectingRows(_ indices: some Collection<Int>) -> Matrix {
    var result = [Double]()
    result.reserveCapacity(indices.count * columns)
    for index in indices {
      precondition(index >= 0 && index < rows, "row \(index) out of 0..<\(rows)")
      result.append(contentsOf: storage[index * columns..<(index + 1) * columns])
    }
    return Matrix(rows: indices.count, columns: columns, storage: result)
  }

  /// The transpose, `[columns, rows]`.
  public func transposed() -> Matrix {
    var result = [Double](repeating: 0, count: storage.count)
    storage.withUnsafeBufferPointer { source in
      result.withUnsafeMutableBufferPointer { target in
        for r in 0..<rows {
          for c in 0..<columns { target[c * rows + r] = source[r * columns + c] }
        }
      }
    }
    return Matrix(rows: columns, columns: rows, storage: result)
  }

  /// Smallest and largest element, or `nil` for an empty matrix.
  public var valueRange: ClosedRange<Double>? {
    guard var low = storage.first else { return nil }
    var high = low
    for value in storage {
      if value < low { low = value }
      if value > high { high = value }
    }
    return low...high
  }
}

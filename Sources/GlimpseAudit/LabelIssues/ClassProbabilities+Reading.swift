import GlimpseCore
import GlimpseData

extension ClassProbabilities {
  /// Reads the probabilities table `glimpse predict` writes (`row,source,p_<class>...,
  /// predicted[,vote]`): one row per DATA row, in order, the classes in the `p_` columns'
  /// order.
  ///
  /// - Parameters:
  ///   - path: The CSV file (plain or compressed).
  ///   - rows: DATA's row count, which the table must match.
  ///   - limits: Reading limits.
  /// - Throws: `FileContentError` (file and line) for a missing column, a row count that does
  ///   not match, rows out of order, or a probability that is not a number in [0, 1].
  public static func readPredictions(_ path: String, rows: Int, limits: ReadLimits = ReadLimits())
    throws -> ClassProbabilities
  {
    let bytes = try FileBytes.read(path, limits: limits)
    let header = CSVReader.header(of: bytes, maxColumns: limits.maxColumns)
    let probabilityColumns = header.filter { $0.hasPrefix("p_") }
    guard !probabilityColumns.isEmpty else {
      throw FileContentError(
        path: path, reason: ":1: no p_<class> columns (expected glimpse predict's CSV)")
    }
    let text = Set(header).subtracting(probabilityColumns)
    let table = try CSVReader.parse(bytes, path: path, textColumns: text, limits: limits)
    guard table.rowCount == rows else {
      throw FileContentError(
        path: path, reason: "holds \(table.rowCount) rows, DATA has \(rows); they must match")
    }
    func line(_ row: Int) -> String {
      row < table.lineNumbers.count ? ":\(table.lineNumbers[row])" : ""
    }
    if let numbers = table.textColumns["row"] {
      for (row, number) in numbers.enumerated() where Int(number) != row {
        throw FileContentError(
          path: path, reason: "\(line(row)): row \(number) out of order (expected \(row))")
      }
    }
    let columns = probabilityColumns.map { table.numericColumnNames.firstIndex(of: $0) ?? 0 }
    var values = [Double]()
    values.reserveCapacity(rows * columns.count)
    for row in 0..<rows {
      for (index, column) in columns.enumerated() {
        let value = table.values[row, column]
        guard value.isFinite, value >= 0, value <= 1 + 1e-9 else {
          throw FileContentError(
            path: path,
            reason: "\(line(row)): \(probabilityColumns[index]) = \(value) is not a probability")
        }
        values.append(value)
      }
    }
    return ClassProbabilities(
      classes: probabilityColumns.map { String($0.dropFirst(2)) }, values: values)
  }
}

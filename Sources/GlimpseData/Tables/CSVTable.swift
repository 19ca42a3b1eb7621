import GlimpseCore

/// A parsed CSV table: its numeric columns as a matrix, the columns asked for as text verbatim.
public struct CSVTable: Sendable {
  /// The file the table came from (for messages).
  public var path: String
  /// Every column name of the header, in file order.
  public var header: [String]
  /// Names of the numeric columns, in the matrix's column order.
  public var numericColumnNames: [String]
  /// `[rows, numericColumnNames.count]`.
  public var values: Matrix
  /// The text columns, by name; each holds one string per row.
  public var textColumns: [String: [String]]
  /// The line of the file each row was read from (1-based, the header is line 1 or later).
  public var lineNumbers: [Int]

  /// Number of data rows.
  public var rowCount: Int { values.rows }

  /// Whether the first column is a pandas index (written by `DataFrame.to_csv` with an empty
  /// name, or read back as `Unnamed: 0`).
  public static func isIndexColumnName(_ name: String) -> Bool {
    name.isEmpty || name == "Unnamed: 0"
  }

  /// The pandas index column's name, when the table has one.
  public var indexColumnName: String? {
    guard let first = header.first, Self.isIndexColumnName(first) else { return nil }
    return first
  }

  /// True when every value is an integer from 0 to 255 (an 8-bit image table).
  public var valuesAreBytes: Bool {
    values.storage.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() }
  }
}

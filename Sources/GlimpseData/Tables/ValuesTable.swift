import GlimpseCore

/// The values CSV that `glimpse value` writes: `index,source,label,value,stderr,samples`, one row
/// per training point.
public enum ValuesTable {
  /// The columns, in order.
  public static let header = ["index", "source", "label", "value", "stderr", "samples"]

  /// Reads the `value` column of a values file written for `count` points, placed by the
  /// `index` column (rows may come in any order, each index in `0..<count` exactly once).
  /// - Throws: `FileContentError` naming the line.
  public static func readValues(_ path: String, count: Int) throws -> [Double] {
    func failure(_ message: String) -> FileContentError {
      FileContentError(path: path, reason: message)
    }
    let table = try CSVReader.read(
      path, textColumns: ["index", "source", "label", "stderr", "samples"])
    guard let column = table.numericColumnNames.firstIndex(of: "value") else {
      throw failure(":1: no numeric 'value' column (expected \(header.joined(separator: ",")))")
    }
    guard table.rowCount == count else {
      throw failure(": \(table.rowCount) values for \(count) training points")
    }
    guard let indices = table.textColumns["index"] else {
      // No index column: the rows are the points in order.
      return (0..<count).map { table.values[$0, column] }
    }
    var values = [Double](repeating: 0, count: count)
    var seen = [Bool](repeating: false, count: count)
    for (row, text) in indices.enumerated() {
      let line = row < table.lineNumbers.count ? ":\(table.lineNumbers[row])" : ""
      guard let index = Int(text.filter { $0 != " " }), (0..<count).contains(index) else {
        throw failure(
          "\(line): index \(quoted(text, delimiter: "\"")) is not a point number in 0..<\(count)")
      }
      guard !seen[index] else { throw failure("\(line): index \(index) appears twice") }
      seen[index] = true
      values[index] = table.values[row, column]
    }
    return values
  }
}

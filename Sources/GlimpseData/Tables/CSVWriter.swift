/// Writes CSV text (RFC 4180): fields with commas, quotes or line breaks are quoted.
public enum CSVWriter {
  /// The header and rows as CSV text, one line per row, `\n` line ends.
  public static func text(header: [String], rows: [[String]]) -> String {
    var text = line(header)
    for row in rows { text += line(row) }
    return text
  }

  static func line(_ fields: [String]) -> String {
    fields.map(quoted).joined(separator: ",") + "\n"
  }

  static func quoted(_ field: String) -> String {
    guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
      return field
    }
    return "\"" + field.replacingAll("\"", with: "\"\"") + "\""
  }
}

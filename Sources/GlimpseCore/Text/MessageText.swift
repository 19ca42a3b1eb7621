/// File content made safe for a one-line error message: at most `limit` shown characters (then
/// `…`), with line breaks, tabs, backslashes and non-printable characters escaped (`\n`, `\t`,
/// `\\`, `\xNN`; undecodable bytes, line separators and invisible format characters as
/// `\u{XXXX}`), so that binary data or a multi-line cell never spills raw into the terminal.
///
/// - Parameter delimiter: when given (`'` or `"`), the result is wrapped in it and the delimiter
///   escaped inside.
public func quoted(_ text: String, limit: Int = 60, delimiter: Character? = nil) -> String {
  var result = ""
  var length = 0
  let quote = delimiter.flatMap(\.unicodeScalars.first)
  for scalar in text.unicodeScalars {
    let piece: String
    switch scalar {
    case "\n": piece = "\\n"
    case "\r": piece = "\\r"
    case "\t": piece = "\\t"
    case "\\": piece = "\\\\"
    case _ where scalar == quote: piece = "\\" + String(scalar)
    default:
      if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        piece = "\\x" + (hex.count < 2 ? "0" + hex : hex)
      } else if scalar == "\u{FFFD}"
        || invisibleCategories.contains(scalar.properties.generalCategory)
      {
        piece = "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
      } else {
        piece = String(scalar)
      }
    }
    // The limit counts what is shown, escapes included.
    let pieceLength = piece.unicodeScalars.count
    if length + pieceLength > limit {
      result += "…"
      break
    }
    result += piece
    length += pieceLength
  }
  guard let delimiter else { return result }
  return "\(delimiter)\(result)\(delimiter)"
}

private let invisibleCategories: Set<Unicode.GeneralCategory> = [
  .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned,
]

/// A JSON decoding error as one short phrase: where in the file and what, never the raw bytes
/// (`field 'state.accumulator.counts[3]': expected a number`).
public func describeDecodingError(_ error: any Error) -> String {
  let context: DecodingError.Context
  switch error {
  case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c),
    DecodingError.keyNotFound(_, let c), DecodingError.dataCorrupted(let c):
    context = c
  default:
    return quoted("\(error)", limit: 80)
  }
  var path = ""
  for key in context.codingPath {
    if let index = key.intValue {
      path += "[\(index)]"
    } else {
      path += (path.isEmpty ? "" : ".") + key.stringValue
    }
  }
  var what = context.debugDescription
  if case DecodingError.keyNotFound(let key, _) = error {
    path += (path.isEmpty ? "" : ".") + key.stringValue
    what = "missing"
  }
  if what.isEmpty || what == "The given data was not valid JSON." {
    // The decoder says no more for malformed text and for numbers too large for their field.
    what =
      context.underlyingError.map { "not valid JSON (\($0))" }
      ?? "not valid JSON, or a number too large for its field"
  }
  let text = quoted(what, limit: 100)
  return path.isEmpty ? text : "field \(quoted(path, limit: 80, delimiter: "'")): \(text)"
}

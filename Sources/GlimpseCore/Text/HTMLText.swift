/// Text made safe inside HTML: in element content or in an attribute value quoted with either
/// quote (`&`, `<`, `>`, `"` and `'` become entities). The one escaper of the gallery and the
/// audit page.
public func htmlEscaped(_ text: String) -> String {
  var result = ""
  result.reserveCapacity(text.utf8.count)
  for character in text {
    switch character {
    case "&": result += "&amp;"
    case "<": result += "&lt;"
    case ">": result += "&gt;"
    case "\"": result += "&quot;"
    case "'": result += "&#39;"
    default: result.append(character)
    }
  }
  return result
}

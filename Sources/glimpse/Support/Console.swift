import Glibc
import GlimpseCore

/// Writes a line to standard error (pass error messages through `oneLine` first).
func printError(_ line: String) {
  printErrorInline(line + "\n")
}

/// `text` with C0/C1 control characters and line separators escaped (`\n`, `\xNN`,
/// `\u{2028}`); everything else, backslashes included, as it is.
func oneLine(_ text: String) -> String {
  func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) || scalar == "\u{2028}"
      || scalar == "\u{2029}"
  }
  guard text.unicodeScalars.contains(where: needsEscape) else { return text }
  var result = ""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\n": result += "\\n"
    case "\r": result += "\\r"
    case "\t": result += "\\t"
    case _ where needsEscape(scalar):
      let hex = String(scalar.value, radix: 16, uppercase: true)
      result += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
    default: result.unicodeScalars.append(scalar)
    }
  }
  return result
}

/// Writes text to standard error as it is (unbuffered, so progress bars show at once).
func printErrorInline(_ text: String) {
  var bytes = Array(text.utf8)[...]
  while !bytes.isEmpty {
    let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    if written < 0 && errno == EINTR { continue }
    if written <= 0 { return }
    bytes = bytes.dropFirst(written)
  }
}

/// Whether standard error is a terminal (progress bars are drawn only there).
var standardErrorIsTerminal: Bool { isatty(2) == 1 }

/// `12.3 ms` or `1.23 s`; total (any Double, also negative, huge or not finite).
func formatDuration(_ seconds: Double) -> String {
  abs(seconds) < 1
    ? "\(formatFixed(seconds * 1000, digits: 1)) ms" : "\(formatFixed(seconds, digits: 2)) s"
}

/// `x` rounded to the nearest Int, saturating at Int's bounds; NaN gives 0. For numbers that
/// come from files or from models read from files, where `Int(x)` would trap.
func clampedInt(_ x: Double) -> Int {
  guard !x.isNaN else { return 0 }
  let rounded = x.rounded()
  // Int.max is not representable as a Double; 2^63 is the first Double past it.
  if rounded >= 9_223_372_036_854_775_808.0 { return Int.max }
  if rounded < -9_223_372_036_854_775_808.0 { return Int.min }
  return Int(rounded)
}

/// `62%`: a probability as a whole percentage; total (a NaN probability from a broken model
/// file prints as `?%`, not a trap).
func formatPercent(_ p: Double) -> String {
  p.isFinite ? "\(clampedInt(p * 100))%" : "?%"
}

/// One line saying what went wrong, for lists of skipped items and warnings.
func describe(_ error: Error) -> String {
  let text: String
  switch error {
  case let error as GlimpseError: text = error.description
  case let error as CommandFailure: text = error.message
  default: text = String(describing: error)
  }
  return text.split(whereSeparator: \.isNewline).joined(separator: " ")
}

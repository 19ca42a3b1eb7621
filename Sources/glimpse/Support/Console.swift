import Glibc

/// Writes a line to standard error.
func printError(_ line: String) {
  printErrorInline(line + "\n")
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

/// `12.3 ms` or `1.23 s`.
func formatDuration(_ seconds: Double) -> String {
  seconds < 1 ? "\(formatFixed(seconds * 1000, digits: 1)) ms" : "\(formatFixed(seconds, digits: 2)) s"
}

/// A number with a fixed count of decimals (Foundation-free `String(format:)`).
func formatFixed(_ value: Double, digits: Int) -> String {
  guard value.isFinite else { return String(value) }
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let rounded = (abs(value) * scale).rounded()
  let integer = Int(rounded / scale)
  let fraction = Int(rounded - Double(integer) * scale)
  let sign = value < 0 && rounded != 0 ? "-" : ""
  guard digits > 0 else { return "\(sign)\(integer)" }
  let fractionText = String(fraction)
  return "\(sign)\(integer).\(String(repeating: "0", count: digits - fractionText.count))\(fractionText)"
}


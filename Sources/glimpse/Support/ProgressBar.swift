/// A one-line progress bar on standard error, drawn only when it is a terminal.
final class ProgressBar {
  private let total: Int
  private let label: String
  private let enabled: Bool
  private let started = monotonicSeconds()
  private var lastDraw = 0.0

  init(total: Int, label: String) {
    self.total = max(total, 1)
    self.label = label
    self.enabled = standardErrorIsTerminal
  }

  /// Redraws with `done` items finished (at most 10 times a second).
  func update(_ done: Int) {
    guard enabled else { return }
    let now = monotonicSeconds()
    guard now - lastDraw > 0.1 || done == total else { return }
    lastDraw = now
    let fraction = Double(done) / Double(total)
    let filled = Int(fraction * 30)
    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
    let elapsed = now - started
    let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
    printErrorInline(
      "\r\(label) \(bar) \(done)/\(total)  \(formatDuration(elapsed)) elapsed, ETA \(formatDuration(eta))  ")
  }

  /// Ends the line.
  func finish() {
    guard enabled else { return }
    printErrorInline("\n")
  }
}

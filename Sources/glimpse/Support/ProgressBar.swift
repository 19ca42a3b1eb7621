import GlimpseCore

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
    update(done, detail: "")
  }

  /// Redraws with `done` items finished and a short status after the bar (at most 10 times a
  /// second), e.g. a CNN's epoch, loss and accuracy.
  func update(_ done: Int, detail: String) {
    guard enabled else { return }
    let now = monotonicSeconds()
    guard now - lastDraw > 0.1 || done == total else { return }
    lastDraw = now
    let fraction = min(max(Double(done) / Double(total), 0), 1)
    let filled = clampedInt((fraction * 30).rounded(.down))
    let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 30 - filled)
    let elapsed = now - started
    let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
    let status = detail.isEmpty ? "\(done)/\(total)" : detail
    // Clear to the end of the line (ESC [K): a shorter status must not leave the tail of a
    // longer one behind.
    printErrorInline(
      "\r\(label) \(bar) \(status)  \(formatDuration(elapsed)) elapsed, ETA \(formatDuration(eta))\u{1B}[K"
    )
  }

  /// Ends the line.
  func finish() {
    guard enabled else { return }
    printErrorInline("\n")
  }
}

import GlimpseCore
import Synchronization

/// A progress bar that worker threads may update.
final class SharedProgressBar: Sendable {
  private let bar: Mutex<UncheckedSendable<ProgressBar>>

  init(total: Int, label: String) {
    bar = Mutex(UncheckedSendable(ProgressBar(total: total, label: label)))
  }

  func update(_ done: Int, detail: String) {
    bar.withLock { $0.value.update(done, detail: detail) }
  }

  func finish() { bar.withLock { $0.value.finish() } }
}

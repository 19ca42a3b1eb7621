import Synchronization

/// Holds OpenBLAS at 1 thread while parallel sections run, for all of them at once.
///
/// OpenBLAS's thread count is process-wide. Parallel training, inference and valuation set it
/// to 1 (each of their threads runs GEMMs of its own) and give the caller back its count
/// afterwards. When two such sections overlap (LIME scores perturbations for several segmenters
/// at once, each call running its batches in parallel), a plain save-set-restore lets the first
/// to finish restore the caller's count while the other still runs: its GEMMs would then fork
/// OpenBLAS threads on top of its own and round as the other count does. So holders are
/// counted: the first saves and sets 1, the last restores. Use it through
/// `withSingleThreadedBLAS(_:)`.
package final class SingleThreadedBLAS: Sendable {
  /// The pin on OpenBLAS's thread count.
  package static let shared = SingleThreadedBLAS(
    threadCount: { BLAS.threadCount }, setThreadCount: { BLAS.setThreadCount($0) })

  private let threadCount: @Sendable () -> Int
  private let setThreadCount: @Sendable (Int) -> Void
  private let state = Mutex(State())

  private struct State {
    var holders = 0
    var callerThreads = 1
  }

  /// A pin on the thread count that `threadCount` reads and `setThreadCount` sets (tests pass
  /// a counter of their own, so that they need not change OpenBLAS under other tests).
  package init(
    threadCount: @escaping @Sendable () -> Int, setThreadCount: @escaping @Sendable (Int) -> Void
  ) {
    self.threadCount = threadCount
    self.setThreadCount = setThreadCount
  }

  /// Sets the count to 1 unless a holder already has; pair with `leave()`.
  package func enter() {
    state.withLock { state in
      if state.holders == 0 {
        state.callerThreads = threadCount()
        if state.callerThreads != 1 { setThreadCount(1) }
      }
      state.holders += 1
    }
  }

  /// Gives back the count found by the first holder once the last holder leaves.
  package func leave() {
    state.withLock { state in
      precondition(state.holders > 0, "SingleThreadedBLAS.leave() without enter()")
      state.holders -= 1
      if state.holders == 0 && state.callerThreads != 1 { setThreadCount(state.callerThreads) }
    }
  }

  /// Runs `body` with the count held at 1 (when `active`), then leaves as above.
  package func hold<Result>(
    if active: Bool = true, _ body: () throws -> Result
  ) rethrows -> Result {
    guard active else { return try body() }
    enter()
    defer { leave() }
    return try body()
  }
}

/// Runs `body` with OpenBLAS at 1 thread, for parallel sections whose threads each run GEMMs of
/// their own; the caller's count comes back when the last overlapping section ends
/// (`SingleThreadedBLAS`). With `active` false, `body` runs under whatever count is set (callers
/// that run serially keep OpenBLAS's own threads).
package func withSingleThreadedBLAS<Result>(
  if active: Bool = true, _ body: () throws -> Result
) rethrows -> Result {
  try SingleThreadedBLAS.shared.hold(if: active, body)
}

import GlimpseCore
import Synchronization

/// Holds OpenBLAS at 1 thread while the models' parallel sections run, for all of them at once.
///
/// OpenBLAS's thread count is process-wide. Parallel training and inference set it to 1 (each of
/// their threads runs GEMMs of its own) and give the caller back its count afterwards. When two
/// such sections overlap (LIME scores perturbations for several segmenters at once, each call
/// running its batches in parallel), a plain save-set-restore lets the first to finish restore
/// the caller's count while the other still runs: its GEMMs would then fork OpenBLAS threads on
/// top of its own and round as the other count does. So holders are counted: the first saves
/// and sets 1, the last restores.
final class SingleThreadedBLAS: Sendable {
  /// The pin on OpenBLAS's thread count.
  static let shared = SingleThreadedBLAS(
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
  init(
    threadCount: @escaping @Sendable () -> Int, setThreadCount: @escaping @Sendable (Int) -> Void
  ) {
    self.threadCount = threadCount
    self.setThreadCount = setThreadCount
  }

  /// Sets the count to 1 unless a holder already has; pair with `leave()`.
  func enter() {
    state.withLock { state in
      if state.holders == 0 {
        state.callerThreads = threadCount()
        if state.callerThreads != 1 { setThreadCount(1) }
      }
      state.holders += 1
    }
  }

  /// Gives back the count found by the first holder once the last holder leaves.
  func leave() {
    state.withLock { state in
      precondition(state.holders > 0, "SingleThreadedBLAS.leave() without enter()")
      state.holders -= 1
      if state.holders == 0 && state.callerThreads != 1 { setThreadCount(state.callerThreads) }
    }
  }
}

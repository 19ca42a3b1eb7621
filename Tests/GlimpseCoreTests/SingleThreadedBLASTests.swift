import Dispatch
import GlimpseCore
import Synchronization
import Testing

/// The counted pin behind `withSingleThreadedBLAS`, on a counter of its own rather than
/// OpenBLAS's (other suites run GEMMs at the same time).
@Suite("withSingleThreadedBLAS: overlapping holders share one pin on the thread count")
struct SingleThreadedBLASTests {
  /// A thread count standing in for OpenBLAS's.
  final class FakeThreadCount: Sendable {
    let value = Atomic(4)
  }

  @Test("overlapping holders keep the thread count at 1 until the last leaves, then restore it")
  func singleThreadedPinIsCounted() {
    let fake = FakeThreadCount()
    let pin = SingleThreadedBLAS(
      threadCount: { fake.value.load(ordering: .sequentiallyConsistent) },
      setThreadCount: { fake.value.store($0, ordering: .sequentiallyConsistent) })
    pin.enter()
    pin.enter()
    pin.leave()
    // A plain save-set-restore would have put 4 back here, under the first holder.
    #expect(fake.value.load(ordering: .sequentiallyConsistent) == 1)
    pin.leave()
    #expect(fake.value.load(ordering: .sequentiallyConsistent) == 4)
    // Holders entering and leaving on 8 threads at once always see 1 while they hold.
    let wrongCounts = Atomic(0)
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      for _ in 0..<2000 {
        pin.enter()
        if fake.value.load(ordering: .sequentiallyConsistent) != 1 {
          wrongCounts.wrappingAdd(1, ordering: .relaxed)
        }
        pin.leave()
      }
    }
    #expect(wrongCounts.load(ordering: .relaxed) == 0)
    #expect(fake.value.load(ordering: .sequentiallyConsistent) == 4)
  }

  @Test(
    "hold runs its body with the count at 1 and restores it; inactive, it leaves the count alone")
  func holdScopesThePin() {
    let fake = FakeThreadCount()
    let pin = SingleThreadedBLAS(
      threadCount: { fake.value.load(ordering: .sequentiallyConsistent) },
      setThreadCount: { fake.value.store($0, ordering: .sequentiallyConsistent) })
    let inside = pin.hold { fake.value.load(ordering: .sequentiallyConsistent) }
    #expect(inside == 1)
    #expect(fake.value.load(ordering: .sequentiallyConsistent) == 4)
    let untouched = pin.hold(if: false) { fake.value.load(ordering: .sequentiallyConsistent) }
    #expect(untouched == 4)
  }
}

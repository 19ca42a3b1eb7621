import Dispatch
import Synchronization
import Testing

@testable import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

@Suite(
  "WorkerPool: each part runs once per job, claimed by whichever thread is free, through sleeps and contention"
)
struct WorkerPoolTests {
  /// Runs `jobs` jobs of `parts` parts on `pool` and returns how often each part ran per job.
  private func partCounts(_ pool: WorkerPool, parts: Int, jobs: Int) -> [[Int]] {
    (0..<jobs).map { _ in
      let tally = PartTally(parts)
      let ran = pool.run(parts: parts) { part in tally.count(part) }
      #expect(ran)
      return tally.counts
    }
  }

  @Test("10 000 back-to-back jobs (workers kept awake): each part exactly once per job")
  func backToBackJobs() {
    let pool = WorkerPool(workers: 3)
    let counts = partCounts(pool, parts: 4, jobs: 10_000)
    #expect(counts.allSatisfy { $0 == [1, 1, 1, 1] })
  }

  @Test("workers that fell asleep between jobs are woken: no job is lost")
  func jobsAfterSleeping() {
    // With no spinning, every worker sleeps before each job: the wake-up path each time.
    let pool = WorkerPool(workers: 2, spinSeconds: 0)
    var all: [[Int]] = []
    for round in 0..<200 {
      all += partCounts(pool, parts: 3, jobs: 1)
      if round % 20 == 0 { usleep(2_000) }
    }
    #expect(all.allSatisfy { $0 == [1, 1, 1] })
  }

  @Test("a job whose workers never arrive (a busy machine) is run whole by the caller, in order")
  func lateWorkersDoNotStallTheCaller() {
    // The caller claims parts like any worker: nothing waits for a thread that is not running.
    let pool = WorkerPool(workers: 1, startsThreads: false)
    let order = Mutex<[Int]>([])
    let caller = pthread_self()
    let onCaller = Atomic(true)
    for _ in 0..<100 {
      #expect(
        pool.run(parts: 2) { part in
          order.withLock { $0.append(part) }
          if pthread_equal(pthread_self(), caller) == 0 {
            onCaller.store(false, ordering: .relaxed)
          }
        })
    }
    #expect(order.withLock { $0 } == Array(repeating: [0, 1], count: 100).flatMap { $0 })
    let allOnCaller = onCaller.load(ordering: .relaxed)
    #expect(allOnCaller)
  }

  @Test("workers that are awake take parts: over many jobs, parts run on more than one thread")
  func workersTakeParts() {
    let pool = WorkerPool(workers: 1)
    let caller = pthread_self()
    let onWorker = Atomic(0)
    for _ in 0..<2_000 {
      _ = pool.run(parts: 2) { _ in
        var x = 0.0
        for k in 0..<2_000 { x += Double(k).squareRoot() }
        if x < 0 { print(x) }
        if pthread_equal(pthread_self(), caller) == 0 { onWorker.add(1, ordering: .relaxed) }
      }
    }
    let partsOnWorker = onWorker.load(ordering: .relaxed)
    #expect(partsOnWorker > 0)
  }

  @Test("fewer parts than workers: only parts 0..<parts run")
  func fewerParts() {
    let pool = WorkerPool(workers: 3)
    #expect(partCounts(pool, parts: 2, jobs: 500).allSatisfy { $0 == [1, 1] })
    #expect(partCounts(pool, parts: 1, jobs: 10).allSatisfy { $0 == [1] })
  }

  @Test("a job too wide, nested in a job, or on a pool of no workers is refused, running nothing")
  func refusals() {
    let pool = WorkerPool(workers: 1)
    var ranTooWide = false
    #expect(!pool.run(parts: 3) { _ in ranTooWide = true })
    #expect(!ranTooWide)
    let nestedRefused = Atomic(0)
    #expect(
      pool.run(parts: 2) { _ in
        if !pool.run(parts: 2, { _ in }) { nestedRefused.add(1, ordering: .relaxed) }
      })
    #expect(nestedRefused.load(ordering: .relaxed) == 2)
    let none = WorkerPool(workers: 0)
    #expect(!none.run(parts: 2) { _ in })
    #expect(none.run(parts: 1) { _ in })
  }

  @Test("callers on many threads at once: each job's parts run once, on the pool or refused")
  func concurrentCallers() {
    let pool = WorkerPool(workers: 1)
    let total = Atomic(0)
    let refused = Atomic(0)
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      for _ in 0..<300 {
        let tally = PartTally(2)
        if pool.run(parts: 2, { part in tally.count(part) }) {
          #expect(tally.counts == [1, 1])
          total.add(2, ordering: .relaxed)
        } else {
          #expect(tally.counts == [0, 0])
          refused.add(1, ordering: .relaxed)
        }
      }
    }
    #expect(total.load(ordering: .relaxed) + 2 * refused.load(ordering: .relaxed) == 8 * 300 * 2)
  }

  @Test("a fork inside a fork gets the width its part leaves; at width 1 it stays on its thread")
  func nestedForks() {
    let widths = Mutex<[Int]>([])
    ParallelRegion.$width.withValue(4) {
      forkJoin(parts: 2) { _ in
        widths.withLock { $0.append(ParallelRegion.width) }
      }
    }
    #expect(widths.withLock { $0 } == [2, 2])
    // At width 2, the parts of a 2-part fork get width 1: a fork inside runs its three parts in
    // order on the part's own thread.
    let orders = Mutex<[[Int]]>([])
    let threadsMatch = Mutex<[Bool]>([])
    ParallelRegion.$width.withValue(2) {
      forkJoin(parts: 2) { _ in
        let outer = pthread_self()
        var order: [Int] = []
        var same = true
        forkJoin(parts: 3) { part in
          order.append(part)
          same = same && pthread_equal(pthread_self(), outer) != 0
        }
        orders.withLock { $0.append(order) }
        threadsMatch.withLock { $0.append(same) }
      }
    }
    #expect(orders.withLock { $0 } == [[0, 1, 2], [0, 1, 2]])
    #expect(threadsMatch.withLock { $0 } == [true, true])
  }

  @Test("forkJoin runs every part once, whether the shared pool takes the job or Dispatch does")
  func forkJoinParts() {
    for parts in [1, 2, 3, 7] {
      let tally = PartTally(parts)
      forkJoin(parts: parts) { part in tally.count(part) }
      #expect(tally.counts == Array(repeating: 1, count: parts))
    }
  }
}

/// How many times each part of a job ran, counted from any thread.
private final class PartTally: Sendable {
  private let tally: Mutex<[Int]>
  init(_ parts: Int) { tally = Mutex(Array(repeating: 0, count: parts)) }
  func count(_ part: Int) { tally.withLock { $0[part] += 1 } }
  var counts: [Int] { tally.withLock { $0 } }
}

@Suite("Parallelism: threads sized by the cores this process may use")
struct ParallelismTests {
  @Test("available cores never exceed the online cores nor the affinity mask")
  func availableCoresBounded() throws {
    let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #expect(Parallelism.availableCores >= 1 && Parallelism.availableCores <= online)
    let affinity = try #require(Parallelism.affinityCount())
    #expect(Parallelism.availableCores <= affinity)
  }

  @Test("the affinity mask of /proc/PID/status counts its CPUs (hex groups, commas)")
  func affinityMaskParsing() {
    #expect(
      Parallelism.cpuCount(fromStatus: "Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n") == 2
    )
    #expect(Parallelism.cpuCount(fromStatus: "Cpus_allowed:\t1\n") == 1)
    #expect(Parallelism.cpuCount(fromStatus: "Cpus_allowed:\tff,00000001\n") == 9)
    #expect(Parallelism.cpuCount(fromStatus: "Name:\tx\n") == nil)
  }
}

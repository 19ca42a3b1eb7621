import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

// Implementation notes
// 1. Why: Glimpse's loops fork and join often and briefly. A CNN training step forks its two
//    shards (~0.7 ms each) and then the optimiser's pass (~40 µs), 1250 times in a 10-epoch
//    run. On the 2-core virtual machine of the benchmarks, `DispatchQueue.concurrentPerform`
//    took 50–80 µs per fork to wake a worker that had gone to sleep (the halted virtual core
//    must be woken by the host): ~8 % of a training run's wall time went to waiting for threads.
//    Workers here stay awake, spinning, for a short while after each job, so the next fork
//    finds them running and costs about a microsecond.
// 2. Protocol. The caller publishes the job (the closure and the part count), opens it, then
//    bumps `generation`; each worker waits for a generation it has not seen, counts itself in
//    `active`, and, while the job is open, claims parts from the shared `nextPart` counter and
//    runs them. The caller claims parts the same way, waits until `remaining` parts reach 0,
//    closes the job and waits for the workers still inside it (`active`) before it returns.
//    A worker that has spun for `spinSeconds` without a new job sleeps on a condition variable.
//    Lost wake-ups cannot happen: a worker counts itself in `sleepers` before it re-checks
//    `generation` under the lock, and the caller reads `sleepers` after the bump (both
//    sequentially consistent), so either the worker sees the new generation or the caller sees
//    the sleeper and broadcasts under the lock. No worker reads a job after its caller returned:
//    a worker increments `active` before it reads `open`, and the caller clears `open` before it
//    reads `active` (all sequentially consistent), so either the caller waits for it or it
//    sees the job closed.
// 3. Parts are claimed, not assigned. Under load (another process busy on one of the 2
//    cores) a worker may not run for several milliseconds; had it owned part 1, every fork
//    would wait for it. A part goes to whichever thread asks first, so a late worker's part
//    is run by the caller and a fork costs at most the work itself. A part's result never
//    depends on the thread that runs it, so the results are the same bits either way; parts
//    may therefore run one after another and must not wait for each other.
// 4. One job at a time: a caller that finds the pool busy (another thread's job, or a job
//    nested inside a job) gets `false` from `run` and forks some other way, so callers from
//    many threads (tests run in parallel) stay correct.
// 5. Spinning calls `sched_yield` between checks, so a spinning worker gives its core to any
//    other runnable thread at once; it only burns time on a core nobody else wants.

/// A fixed set of threads that run parts of a job beside the calling thread and stay awake
/// briefly between jobs, so that frequent short forks do not wait for threads to wake up.
public final class WorkerPool: @unchecked Sendable {
  /// The process's pool: `Parallelism.threadCount − 1` workers, started on first use.
  public static let shared = WorkerPool(workers: Parallelism.threadCount - 1)

  /// The threads besides the caller's.
  public let workerCount: Int
  /// How long a worker keeps checking for a new job before it sleeps.
  let spinSeconds: Double

  private let busy = Atomic(false)
  private let generation = Atomic(0)
  private let nextPart = Atomic(0)
  private let remaining = Atomic(0)
  private let open = Atomic(false)
  private let active = Atomic(0)
  private let sleepers = Atomic(0)
  /// Whether the threads are started (tests make a pool whose workers never arrive).
  private let startsThreads: Bool
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private let condition: UnsafeMutablePointer<pthread_cond_t>
  /// The current job, written by the caller before it opens it, read by workers that see it
  /// open, cleared by the caller once no worker is inside it.
  private var job: Job?
  private let started = Mutex(false)
  /// Set once the workers run, so that jobs after the first skip the lock.
  private let running = Atomic(false)

  private struct Job {
    let parts: Int
    let body: (Int) -> Void
  }

  /// A pool of `workers` threads (none for `workers` ≤ 0: every job then runs on the caller).
  ///
  /// The threads live as long as the process (they sleep when idle), so a process keeps one
  /// pool, `shared`; tests make their own.
  /// - Parameter startsThreads: false for a pool whose workers never arrive (tests of the
  ///   caller running every part itself).
  package init(workers: Int, spinSeconds: Double = 2e-4, startsThreads: Bool = true) {
    workerCount = max(0, workers)
    self.spinSeconds = spinSeconds
    self.startsThreads = startsThreads
    mutex = .allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)
    condition = .allocate(capacity: 1)
    condition.initialize(to: pthread_cond_t())
    pthread_cond_init(condition, nil)
  }

  /// Runs `body(part)` for every part of `0..<parts` on the calling thread and the pool's
  /// workers, each part once, on whichever thread claims it first, and returns when all are
  /// done; returns `false` at once, running nothing, when `parts` exceeds `workerCount + 1` or
  /// the pool is running another job.
  ///
  /// `body` must be safe to call from several threads at once, and its parts must not wait for
  /// each other (a late worker's part runs on the caller, after the caller's own).
  public func run(parts: Int, _ body: (Int) -> Void) -> Bool {
    guard parts >= 1, parts <= workerCount + 1 else { return false }
    guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    else { return false }
    defer { busy.store(false, ordering: .releasing) }
    if parts == 1 {
      body(0)
      return true
    }
    startWorkers()
    withoutActuallyEscaping(body) { body in
      let current = Job(parts: parts, body: body)
      job = current
      nextPart.store(0, ordering: .relaxed)
      remaining.store(parts, ordering: .relaxed)
      open.store(true, ordering: .sequentiallyConsistent)
      generation.add(1, ordering: .sequentiallyConsistent)
      if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
      }
      runClaimedParts(of: current)
      while remaining.load(ordering: .acquiring) > 0 { sched_yield() }
      open.store(false, ordering: .sequentiallyConsistent)
      while active.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
      job = nil
    }
    return true
  }

  /// Claims and runs parts of `job` until none is left.
  private func runClaimedParts(of job: Job) {
    while true {
      let part = nextPart.wrappingAdd(1, ordering: .relaxed).oldValue
      guard part < job.parts else { return }
      job.body(part)
      remaining.subtract(1, ordering: .releasing)
    }
  }

  private func startWorkers() {
    guard startsThreads, !running.load(ordering: .acquiring) else { return }
    started.withLock { started in
      guard !started else { return }
      started = true
      // Read before the caller bumps it for the job that starts them: a thread that read it
      // itself could start after the bump and miss that job.
      let seen = generation.load(ordering: .acquiring)
      for _ in 0..<workerCount {
        let context = Unmanaged.passRetained(
          WorkerContext(pool: self, seen: seen))
        var thread = pthread_t()
        let status = pthread_create(
          &thread, nil,
          { raw in
            guard let raw else { return nil }
            let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
            context.pool.workerLoop(seen: context.seen)
            return nil
          }, context.toOpaque())
        precondition(status == 0, "could not start a worker thread (pthread_create: \(status))")
        pthread_detach(thread)
      }
      running.store(true, ordering: .releasing)
    }
  }

  /// A worker's life: wait for each new generation, then help with the job while it is open.
  private func workerLoop(seen first: Int) {
    var seen = first
    while true {
      seen = waitForJob(after: seen)
      active.add(1, ordering: .sequentiallyConsistent)
      if open.load(ordering: .sequentiallyConsistent), let job { runClaimedParts(of: job) }
      active.subtract(1, ordering: .sequentiallyConsistent)
    }
  }

  /// Spins (yielding) up to `spinSeconds` for a generation after `seen`, then sleeps for it.
  private func waitForJob(after seen: Int) -> Int {
    let deadline = monotonicSeconds() + spinSeconds
    var checks = 0
    while true {
      let now = generation.load(ordering: .acquiring)
      if now != seen { return now }
      checks += 1
      if checks % 16 == 0, monotonicSeconds() > deadline { break }
      sched_yield()
    }
    pthread_mutex_lock(mutex)
    sleepers.add(1, ordering: .sequentiallyConsistent)
    var now = generation.load(ordering: .sequentiallyConsistent)
    while now == seen {
      pthread_cond_wait(condition, mutex)
      now = generation.load(ordering: .sequentiallyConsistent)
    }
    sleepers.subtract(1, ordering: .sequentiallyConsistent)
    pthread_mutex_unlock(mutex)
    return now
  }
}

/// What a new worker thread needs: its pool and the last generation before it.
private final class WorkerContext: @unchecked Sendable {
  let pool: WorkerPool
  let seen: Int
  init(pool: WorkerPool, seen: Int) {
    self.pool = pool
    self.seen = seen
  }
}

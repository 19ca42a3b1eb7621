#if canImport(Glibc)
  import Glibc
#endif

// Implementation notes
// 1. Every step of a graph run allocates its output map (a batch of six 224×224 images at
//    ResNet-18's stem is 4.8 MB at width 16, 19 MB at full width), frees its inputs, and the
//    convolutions allocate and free their unfolded columns. glibc serves blocks above its mmap
//    threshold (128 KiB, raised on the fly only to the largest block freed so far) with fresh
//    mappings, and gives the top of a heap back to the kernel past its trim threshold, so many
//    of these blocks came back as new pages to fault in and zero: `perf` put 8–10 % of a
//    width-16 forward in the kernel's page-fault, page-clearing and unmapping paths.
// 2. The first graph built fixes the mmap threshold at 32 MiB (glibc's largest) and the trim
//    threshold at 256 MiB, so a run's blocks are recycled from the heap. Measured (release
//    build, one thread, ResNet-18 at width 16, batches of 32): 0.26–0.29 s → 0.22 s a batch.
//    The cost is memory: up to 256 MiB freed by a run may stay in the process for the next.
//    The setting is process-wide and only raises thresholds; nothing else changes.

extension ONNXGraph {
  /// Note 2: set once, the first time a graph is built.
  static let allocatorTuned: Bool = {
    #if canImport(Glibc)
      // glibc's malloc.h is not part of the Glibc module: `mallopt` is looked up by name (absent
      // from other C libraries, where nothing is changed), with malloc.h's parameter numbers.
      typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
      guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else {
        return false
      }
      let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
      let (trimThreshold, mmapThreshold): (Int32, Int32) = (-1, -3)
      _ = mallopt(mmapThreshold, 32 << 20)
      _ = mallopt(trimThreshold, 256 << 20)
      return true
    #else
      return false
    #endif
  }()
}

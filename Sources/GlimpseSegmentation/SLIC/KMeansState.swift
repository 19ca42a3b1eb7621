import GlimpseCore

/// Label storage handed to worker threads that each write their own part.
private struct SendableLabels: @unchecked Sendable {
  let pointer: UnsafeMutablePointer<Int32>
  init(_ pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
}

/// Pixels per block of the pruning bound.
let blockWidth = 8
/// Rows per tile of blocks: eight, one lane per row when a tile's rows are tested at once.
let tileHeight = 8

/// A centre's search window, `[yMin, yMax) × [xMin, xMax)`; empty for a dead centre.
struct Window {
  var yMin = 0
  var yMax = 0
  var xMin = 0
  var xMax = 0
}

/// The k-means state: centres, and per pixel its owner and best distance.
///
/// Buffers are raw so that the parallel bands can write their own rows without copies; each
/// band touches only its rows of the per-pixel buffers and reads the centres.
final class KMeansState<Scalar: KMeansScalar>: @unchecked Sendable {
  let width: Int
  let height: Int
  let channels: Int
  let pixelCount: Int
  let centreCount: Int
  let spatialWeight: Scalar
  let colourWeight: Scalar
  let blocksPerRow: Int
  /// Feature planes in `Scalar`, `channels × pixelCount` (borrowed for the state's
  /// lifetime).
  let planes: UnsafePointer<Scalar>
  /// Centre rows and columns, means in double precision (windows are computed from them as
  /// scikit-image computes its own); distances use them converted to `Scalar`.
  let centreY: UnsafeMutablePointer<Double>
  let centreX: UnsafeMutablePointer<Double>
  /// Centre colours (`centreCount × channels`), double-precision means converted to `Scalar`.
  let centreColour: UnsafeMutablePointer<Scalar>
  let alive: UnsafeMutablePointer<Bool>
  let windows: UnsafeMutablePointer<Window>
  /// Each pixel's centre, as a `Scalar` so that it is selected with the same vector mask as
  /// `best` (exact below 2²⁴ centres in `Float`); -1 before any window covered it.
  let owner: UnsafeMutablePointer<Scalar>
  /// Each pixel's best distance in the current iteration.
  let best: UnsafeMutablePointer<Scalar>
  /// Each pixel's pruning bound in the first iteration (see `firstBound`).
  let bound: UnsafeMutablePointer<Scalar>
  /// The seed nearest to each pixel, its first incumbent.
  let home: UnsafeMutablePointer<Scalar>

  init(features: FeaturePlanes, planes: UnsafePointer<Scalar>, seeds: SLICSeeds) {
    precondition(seeds.count < 1 << 24, "\(seeds.count) seeds: labels are held as scalars")
    width = features.width
    height = features.height
    channels = features.channels
    pixelCount = features.pixelCount
    centreCount = seeds.count
    spatialWeight = Scalar.converting(1.0 / (seeds.step * seeds.step))
    colourWeight = Scalar.converting(features.colourWeight)
    blocksPerRow = (width + blockWidth - 1) / blockWidth

    self.planes = planes
    centreY = .allocate(capacity: centreCount)
    centreY.initialize(from: seeds.rows, count: centreCount)
    centreX = .allocate(capacity: centreCount)
    centreX.initialize(from: seeds.columns, count: centreCount)
    centreColour = .allocate(capacity: centreCount * channels)
    centreColour.initialize(repeating: 0, count: centreCount * channels)
    alive = .allocate(capacity: centreCount)
    alive.initialize(repeating: true, count: centreCount)
    windows = .allocate(capacity: centreCount)
    windows.initialize(repeating: Window(), count: centreCount)
    owner = .allocate(capacity: pixelCount)
    owner.initialize(repeating: -1, count: pixelCount)
    best = .allocate(capacity: pixelCount)
    best.initialize(repeating: .infinity, count: pixelCount)
    bound = .allocate(capacity: pixelCount)
    bound.initialize(repeating: .infinity, count: pixelCount)
    home = .allocate(capacity: pixelCount)
    // Home seeds are per row; rows are split between threads. Each row is written by one item.
    let homes = home
    let (width, height, pixelCount) = (width, height, pixelCount)
    let rowSeeds = (0..<height).map { seeds.homeSeed(x: 0, y: $0) - seeds.homeSeed(x: 0, y: 0) }
    let columnSeeds = (0..<width).map { seeds.homeSeed(x: $0, y: 0) }
    let chunks = contiguousChunks(
      of: height, parts: pixelCount >= 1 << 14 ? Parallelism.threadCount * 4 : 1)
    _ = parallelMap(chunks.count) { index in
      for y in chunks[index] {
        for x in 0..<width {
          (homes + y * width + x).initialize(to: Scalar.converting(rowSeeds[y] + columnSeeds[x]))
        }
      }
      return 0
    }
  }

  deinit {
    for pointer in [centreColour, owner, best, bound, home] {
      pointer.deallocate()
    }
    centreY.deallocate()
    centreX.deallocate()
    alive.deallocate()
    windows.deallocate()
  }

  /// The labels as integers.
  func labels() -> [Int32] {
    // On all cores for large images (each label converted on its own): on the photo this
    // serial pass was a hundredth of the segmentation.
    let owner = owner
    return [Int32](unsafeUninitializedCapacity: pixelCount) { buffer, initialized in
      guard let target = buffer.baseAddress else { return }
      let output = SendableLabels(target)
      forEachChunk(of: pixelCount) { pixels in
        for p in pixels {
          (output.pointer + p).initialize(to: Int32(truncatingIfNeeded: owner[p].integer))
        }
      }
      initialized = pixelCount
    }
  }

  /// Windows as `_slic_cython` computes them: `<Py_ssize_t>max(c - 2 * step, 0)` and
  /// `<Py_ssize_t>min(c + 2 * step + 1, size)`, in floating point, then truncated.
  func computeWindows(stepY: Int, stepX: Int) {
    let stepY = Double(stepY)
    let stepX = Double(stepX)
    for k in 0..<centreCount {
      guard alive[k] else {
        windows[k] = Window()
        continue
      }
      windows[k] = Window(
        yMin: Int(max(centreY[k] - 2 * stepY, 0)),
        yMax: Int(min(centreY[k] + 2 * stepY + 1, Double(height))),
        xMin: Int(max(centreX[k] - 2 * stepX, 0)),
        xMax: Int(min(centreX[k] + 2 * stepX + 1, Double(width))))
    }
  }
}

import GlimpseCore

/// Pixels `start..<end` (row-major indices, within one row) all labelled `label` (-1: none).
struct LabelRun {
  var start: Int
  var end: Int
  var label: Int
}

/// Per centre, its pixel count, the sums of its pixels' rows and columns, and of their colours.
///
/// Raw storage: the sums are updated run by run, where array accesses checked uniqueness.
final class CentreSums: @unchecked Sendable {
  let counts: UnsafeMutablePointer<Int>
  let rows: UnsafeMutablePointer<Int>
  let columns: UnsafeMutablePointer<Int>
  /// `centreCount × channels`.
  let colours: UnsafeMutablePointer<Double>
  let channels: Int

  init(centreCount: Int, channels: Int) {
    counts = .allocate(capacity: centreCount)
    counts.initialize(repeating: 0, count: centreCount)
    rows = .allocate(capacity: centreCount)
    rows.initialize(repeating: 0, count: centreCount)
    columns = .allocate(capacity: centreCount)
    columns.initialize(repeating: 0, count: centreCount)
    colours = .allocate(capacity: centreCount * channels)
    colours.initialize(repeating: 0, count: centreCount * channels)
    self.channels = channels
  }

  deinit {
    counts.deallocate()
    rows.deallocate()
    columns.deallocate()
    colours.deallocate()
  }

  /// Adds a run's colours to its centre's sums, pixel by pixel in raster order.
  @inline(__always)
  func addColours<Scalar: KMeansScalar>(
    _ run: LabelRun, planes: UnsafePointer<Scalar>, pixelCount: Int
  ) {
    let sum = colours
    if channels == 3 {
      var a = loadSum(sum, run.label)
      for p in run.start..<run.end { a += pixel(planes, pixelCount, p) }
      storeSum(a, sum, run.label)
      return
    }
    for c in 0..<channels {
      let plane = planes + c &* pixelCount
      var a = sum[run.label &* channels &+ c]
      for p in run.start..<run.end { a += Double(plane[p]) }
      sum[run.label &* channels &+ c] = a
    }
  }

  /// Adds two runs of different centres, side by side: each centre's sums take the same
  /// additions in the same order as one run at a time, but the two chains overlap.
  @inline(__always)
  func addColours<Scalar: KMeansScalar>(
    _ first: LabelRun, _ second: LabelRun, planes: UnsafePointer<Scalar>, pixelCount: Int
  ) {
    let sum = colours
    let shared = Swift.min(first.end &- first.start, second.end &- second.start)
    if channels == 3 {
      // A pixel's three channels side by side in one vector: six chains at once.
      var a = loadSum(sum, first.label)
      var b = loadSum(sum, second.label)
      for j in 0..<shared {
        a += pixel(planes, pixelCount, first.start &+ j)
        b += pixel(planes, pixelCount, second.start &+ j)
      }
      for p in (first.start &+ shared)..<first.end { a += pixel(planes, pixelCount, p) }
      for p in (second.start &+ shared)..<second.end { b += pixel(planes, pixelCount, p) }
      storeSum(a, sum, first.label)
      storeSum(b, sum, second.label)
      return
    }
    for c in 0..<channels {
      let plane = planes + c &* pixelCount
      var a = sum[first.label &* channels &+ c]
      var b = sum[second.label &* channels &+ c]
      for j in 0..<shared {
        a += Double(plane[first.start &+ j])
        b += Double(plane[second.start &+ j])
      }
      for p in (first.start &+ shared)..<first.end { a += Double(plane[p]) }
      for p in (second.start &+ shared)..<second.end { b += Double(plane[p]) }
      sum[first.label &* channels &+ c] = a
      sum[second.label &* channels &+ c] = b
    }
  }
}

/// A pixel's three channels in double precision (the fourth lane 0).
@inline(__always)
private func pixel<Scalar: KMeansScalar>(
  _ planes: UnsafePointer<Scalar>, _ pixelCount: Int, _ p: Int
) -> SIMD4<Double> {
  SIMD4(
    Double(planes[p]), Double(planes[pixelCount &+ p]), Double(planes[2 &* pixelCount &+ p]), 0)
}

/// Centre `label`'s three colour sums as a vector.
@inline(__always)
private func loadSum(_ sum: UnsafeMutablePointer<Double>, _ label: Int) -> SIMD4<Double> {
  SIMD4(sum[3 &* label], sum[3 &* label &+ 1], sum[3 &* label &+ 2], 0)
}

@inline(__always)
private func storeSum(_ value: SIMD4<Double>, _ sum: UnsafeMutablePointer<Double>, _ label: Int) {
  sum[3 &* label] = value[0]
  sum[3 &* label &+ 1] = value[1]
  sum[3 &* label &+ 2] = value[2]
}

/// A band's runs of equal labels, in raster order, and the range of their labels.
struct BandRuns: Sendable {
  var runs: [LabelRun]
  var lowest: Int
  var highest: Int
}

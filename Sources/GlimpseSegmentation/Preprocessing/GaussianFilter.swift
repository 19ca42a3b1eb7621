import GlimpseCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Implementation notes
// 1. This is what scikit-image's `gaussian(..., mode='reflect')` runs: scipy.ndimage's
//    `gaussian_filter` with `truncate=4.0`, one 1-D correlation per axis (rows first, then
//    columns), each over the whole image before the next.
// 2. The kernel is scipy's `_gaussian_kernel1d`: radius `int(4σ + 0.5)`, weights
//    `exp(-x² / 2σ²)` normalised to sum 1. For a symmetric kernel scipy adds mirrored pairs
//    `(in[i-j] + in[i+j]) · w[j]` from the outermost inwards onto `in[i] · w[0]`; we keep that
//    order so sums round as scipy's do.
// 3. 'reflect' repeats the edge sample (`d c b a | a b c d | d c b a`), and scipy extends that
//    pattern periodically when the kernel is wider than the image, as `reflectedIndex` does.

/// scipy.ndimage's separable Gaussian filter in 'reflect' mode on planar images.
struct GaussianFilter {
  /// Standard deviation in pixels.
  let sigma: Double
  /// Weights `w[0...radius]` of the symmetric kernel, centre first.
  let weights: [Double]

  init(sigma: Double) {
    self.sigma = sigma
    let radius = Int(4.0 * sigma + 0.5)
    let factor = -0.5 / (sigma * sigma)
    let full = (-radius...radius).map { x in exp(factor * Double(x * x)) }
    let total = full.reduce(0, +)
    weights = (0...radius).map { j in full[radius + j] / total }
  }

  /// Kernel radius in pixels.
  var radius: Int { weights.count - 1 }

  /// Filters `planes` planes of `width × height` values in place: along y, then along x.
  func apply(to values: inout [Double], width: Int, height: Int, planes: Int) {
    let pixelCount = width * height
    values.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      // Planes are independent, so each is one work item.
      _ = parallelMap(planes) { c in
        let plane = base + c * pixelCount
        filterColumns(plane, width: width, height: height)
        filterRows(plane, width: width, height: height)
        return 0
      }
    }
  }

  /// Filters along one axis only: y (every column) when `alongColumns`, else x; two such passes
  /// with their own sigmas are scipy's filter with a sigma per axis.
  func apply(to values: inout [Double], width: Int, height: Int, planes: Int, alongColumns: Bool) {
    let pixelCount = width * height
    values.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      _ = parallelMap(planes) { c in
        let plane = base + c * pixelCount
        if alongColumns {
          filterColumns(plane, width: width, height: height)
        } else {
          filterRows(plane, width: width, height: height)
        }
        return 0
      }
    }
  }

  /// Correlates every column (the y axis).
  private func filterColumns(_ plane: UnsafeMutablePointer<Double>, width: Int, height: Int) {
    let r = radius
    let source = Array(UnsafeBufferPointer(start: plane, count: width * height))
    // Reflected row index for every y - j and y + j, so the inner loop has no branches.
    let rows = (-r..<(height + r)).map { reflectedIndex($0, count: height) }
    source.withUnsafeBufferPointer { input in
      weights.withUnsafeBufferPointer { w in
        rows.withUnsafeBufferPointer { rowIndex in
          guard let input = input.baseAddress, let w = w.baseAddress,
            let rowIndex = rowIndex.baseAddress
          else { return }
          for y in 0..<height {
            let out = plane + y * width
            let centre = input + y * width
            for x in 0..<width { out[x] = centre[x] * w[0] }
            var j = r
            while j >= 1 {
              let above = input + rowIndex[y - j + r] * width
              let below = input + rowIndex[y + j + r] * width
              let weight = w[j]
              for x in 0..<width { out[x] += (above[x] + below[x]) * weight }
              j -= 1
            }
          }
        }
      }
    }
  }

  /// Correlates every row (the x axis).
  private func filterRows(_ plane: UnsafeMutablePointer<Double>, width: Int, height: Int) {
    let r = radius
    let columns = (-r..<(width + r)).map { reflectedIndex($0, count: width) }
    var line = [Double](repeating: 0, count: width)
    line.withUnsafeMutableBufferPointer { lineBuffer in
      weights.withUnsafeBufferPointer { w in
        columns.withUnsafeBufferPointer { columnIndex in
          guard let copy = lineBuffer.baseAddress, let w = w.baseAddress,
            let columnIndex = columnIndex.baseAddress
          else { return }
          for y in 0..<height {
            let row = plane + y * width
            for x in 0..<width { copy[x] = row[x] }
            for x in 0..<width {
              var sum = copy[x] * w[0]
              var j = r
              while j >= 1 {
                sum += (copy[columnIndex[x - j + r]] + copy[columnIndex[x + j + r]]) * w[j]
                j -= 1
              }
              row[x] = sum
            }
          }
        }
      }
    }
  }
}

/// Index `i` of a line of `count` samples extended by scipy's 'reflect' mode.
func reflectedIndex(_ i: Int, count: Int) -> Int {
  let period = 2 * count
  var m = i % period
  if m < 0 { m += period }
  return m < count ? m : period - 1 - m
}

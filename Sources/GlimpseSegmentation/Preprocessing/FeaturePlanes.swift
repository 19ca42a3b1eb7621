import GlimpseCore

// Implementation notes
// 1. The segmenters' inner loops compare a pixel's channels with a centre's or a neighbour's.
//    One contiguous plane per channel (`c * pixelCount + y * width + x`) keeps those loads
//    unit-stride, which interleaved RGB (stride 3) would not.
// 2. `colourWeight` is how a grey image stands in for lime's `gray2rgb` copy without being
//    copied: the copy's squared colour distance is t² + t² + t² for the one difference t, and in
//    IEEE arithmetic (t² + t²) + t² rounds exactly as 3·t² does (t² + t² is exact), while each of
//    the copy's channel means equals the grey mean. So weighting the one plane's squared
//    difference by 3 reproduces the copy bit for bit at a third of the work.

/// An image as one `Double` plane per channel, with the weight its colour distance carries.
struct FeaturePlanes {
  /// Pixels per row.
  let width: Int
  /// Rows.
  let height: Int
  /// Planes.
  var channels: Int
  /// `channels` planes of `width × height` values, row-major.
  var values: [Double]
  /// The factor on each squared channel difference: 3 for a grey image read as three equal
  /// channels, else 1.
  var colourWeight: Double

  /// Pixels per plane.
  var pixelCount: Int { width * height }

  /// The image's channels as planes, each weighted once.
  init(_ image: Image) {
    width = image.width
    height = image.height
    channels = image.channels
    colourWeight = 1
    let pixelCount = image.width * image.height
    let channels = image.channels
    var planes = [Double](repeating: 0, count: image.pixels.count)
    image.pixels.withUnsafeBufferPointer { source in
      planes.withUnsafeMutableBufferPointer { target in
        guard let input = source.baseAddress, let output = target.baseAddress else { return }
        forEachChunk(of: pixelCount) { pixels in
          for c in 0..<channels {
            let plane = output + c * pixelCount
            for p in pixels { plane[p] = input[p * channels + c] }
          }
        }
      }
    }
    values = planes
  }

  /// The smallest and largest value over all planes.
  /// - Precondition: every value is finite (scikit-image raises `ValueError` on NaN and ±∞).
  func valueRange() -> (min: Double, max: Double) {
    // Minimum and maximum do not depend on the order, so parts can be taken on their own.
    let parts: [(low: Double, high: Double, finite: Bool)] = values.withUnsafeBufferPointer {
      buffer in
      guard let base = buffer.baseAddress else { return [] }
      let chunks =
        buffer.count >= 1 << 14
        ? contiguousChunks(of: buffer.count, parts: Parallelism.threadCount * 4)
        : [0..<buffer.count]
      return parallelMap(chunks.count) { index in
        var low = Double.infinity
        var high = -Double.infinity
        var finite = true
        for i in chunks[index] {
          let v = base[i]
          if !v.isFinite { finite = false }
          if v < low { low = v }
          if v > high { high = v }
        }
        return (low, high, finite)
      }
    }
    precondition(
      parts.allSatisfy(\.finite),
      "image \(height)×\(width)×\(channels) has NaN or infinite samples")
    return (
      parts.map(\.low).min() ?? .infinity, parts.map(\.high).max() ?? -.infinity
    )
  }

  /// Maps the values affinely onto [0, 1] over all planes, as `slic` does before anything else
  /// (`image -= imin; image /= imax - imin`, the division skipped for a constant image), which
  /// makes the choice of compactness independent of the input's scale.
  mutating func rescaleToUnitRange(inside: [Bool]? = nil) {
    let (low, high) = inside.map { valueRange(inside: $0) } ?? valueRange()
    let span = high - low
    values.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      forEachChunk(of: buffer.count) { part in
        for i in part {
          // Subtract, then divide, in scikit-image's order, for the same roundings.
          var v = base[i] - low
          if span != 0 { v /= span }
          base[i] = v
        }
      }
    }
  }

  /// Multiplies every value by `factor` (`image * ratio` in `slic` and `quickshift`).
  mutating func scale(by factor: Double) {
    values.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      forEachChunk(of: buffer.count) { part in
        for i in part { base[i] *= factor }
      }
    }
  }

  /// Whether this is a one-channel image that should stand for its three-channel copy.
  func isGrey(readAsRGB greyAsRGB: Bool) -> Bool { channels == 1 && greyAsRGB }

  /// Converts an RGB image, or a grey image read as `(g, g, g)`, to CIE Lab with scikit-image's
  /// `rgb2lab`; other channel counts are left as they are.
  ///
  /// A grey image becomes three Lab planes (its `a` and `b` are tiny but not zero, as
  /// scikit-image computes them for equal channels), so its colour weight returns to 1.
  mutating func convertToLab(greyAsRGB: Bool) {
    guard channels == 3 || isGrey(readAsRGB: greyAsRGB) else { return }
    values = CIELab.planes(fromRGBPlanes: values, pixelCount: pixelCount, grey: channels == 1)
    channels = 3
    colourWeight = 1
  }

  /// Smooths each plane along y with `sigmaY`, then along x with `sigmaX` (pixels), as scipy's
  /// `gaussian_filter` with a sigma per axis; an axis whose sigma is below 1e-15 is skipped.
  mutating func smooth(sigmaY: Double, sigmaX: Double) {
    if sigmaY == sigmaX {
      smooth(sigma: sigmaY)
      return
    }
    if sigmaY > 1e-15 {
      GaussianFilter(sigma: sigmaY).apply(
        to: &values, width: width, height: height, planes: channels, alongColumns: true)
    }
    if sigmaX > 1e-15 {
      GaussianFilter(sigma: sigmaX).apply(
        to: &values, width: width, height: height, planes: channels, alongColumns: false)
    }
  }

  /// The smallest and largest value over all planes at the pixels where `inside` is true
  /// (`slic` rescales over the mask only).
  func valueRange(inside: [Bool]) -> (min: Double, max: Double) {
    var low = Double.infinity
    var high = -Double.infinity
    for c in 0..<channels {
      let offset = c * pixelCount
      for p in 0..<pixelCount where inside[p] {
        let v = values[offset + p]
        precondition(v.isFinite, "image has NaN or infinite samples inside the mask")
        if v < low { low = v }
        if v > high { high = v }
      }
    }
    return (low, high)
  }

  /// Smooths each plane with scipy's Gaussian filter along y, then x (`sigma` in pixels).
  mutating func smooth(sigma: Double) {
    guard sigma > 1e-15 else { return }  // scipy skips axes whose sigma is below 1e-15
    GaussianFilter(sigma: sigma).apply(
      to: &values, width: width, height: height, planes: channels)
  }
}

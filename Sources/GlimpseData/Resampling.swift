import GlimpseCore

// Implementation notes
// Resizing uses a separable triangle (bilinear) filter whose support widens with the reduction
// factor, the "antialiased bilinear" of Pillow's `Image.resize(..., BILINEAR)` and torchvision's
// `Resize` (antialias=True). We chose it because folder images are mostly shrunk (photos, X-rays
// to a model's input size): plain bilinear or nearest sampling would skip pixels and alias thin
// strokes, while the widened triangle averages every source pixel; it is also what the Python
// pipelines our users compare with feed their models. Upscaling it is ordinary bilinear
// interpolation. Output pixel i samples the source at (i + 0.5) · in/out, so the image is not
// shifted. Checked against Pillow's float ("F" mode) resize in the tests.

extension Image {
  /// The image resized to `height × width` with an antialiased bilinear filter (see above).
  public func resized(height: Int, width: Int) -> Image {
    precondition(height > 0 && width > 0, "target size \(height)×\(width) must be positive")
    var image = self
    if width != shape.width { image = image.resampledHorizontally(to: width) }
    if height != shape.height {
      image = image.transposedPixels().resampledHorizontally(to: height).transposedPixels()
    }
    return image
  }

  /// Resamples every row to `width` pixels.
  private func resampledHorizontally(to width: Int) -> Image {
    let channels = shape.channels
    let taps = ResamplingTaps(from: shape.width, to: width)
    var output = [Double](repeating: 0, count: shape.height * width * channels)
    pixels.withUnsafeBufferPointer { input in
      output.withUnsafeMutableBufferPointer { result in
        for y in 0..<shape.height {
          let inRow = y * shape.width * channels
          let outRow = y * width * channels
          for x in 0..<width {
            let first = taps.first[x]
            let weights = taps.weights[x]
            for c in 0..<channels {
              var sum = 0.0
              for (k, weight) in weights.enumerated() {
                sum += weight * input[inRow + (first + k) * channels + c]
              }
              result[outRow + x * channels + c] = sum
            }
          }
        }
      }
    }
    return Image(
      shape: ImageShape(height: shape.height, width: width, channels: channels), pixels: output)
  }

  /// Swaps rows and columns (so the vertical pass can reuse the horizontal one).
  private func transposedPixels() -> Image {
    let channels = shape.channels
    var output = [Double](repeating: 0, count: pixels.count)
    for y in 0..<shape.height {
      for x in 0..<shape.width {
        for c in 0..<channels {
          output[(x * shape.height + y) * channels + c] =
            pixels[(y * shape.width + x) * channels + c]
        }
      }
    }
    return Image(
      shape: ImageShape(height: shape.width, width: shape.height, channels: channels),
      pixels: output)
  }
}

/// For each output position, the first source index and the normalised filter weights.
struct ResamplingTaps {
  var first: [Int] = []
  var weights: [[Double]] = []

  init(from inputSize: Int, to outputSize: Int) {
    let scale = Double(inputSize) / Double(outputSize)
    let filterScale = max(scale, 1)
    let support = filterScale  // the triangle filter reaches 1 source pixel at scale 1
    for i in 0..<outputSize {
      let center = (Double(i) + 0.5) * scale
      let low = max(Int((center - support + 0.5).rounded(.down)), 0)
      let high = min(Int((center + support + 0.5).rounded(.down)), inputSize)
      var taps = (low..<high).map { x in
        max(0, 1 - abs((Double(x) - center + 0.5) / filterScale))
      }
      let total = taps.reduce(0, +)
      if total > 0 { taps = taps.map { $0 / total } }
      first.append(low)
      weights.append(taps)
    }
  }
}

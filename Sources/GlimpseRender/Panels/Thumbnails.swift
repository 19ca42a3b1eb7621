import GlimpseCore

/// Smaller copies of images, per-pixel maps and segmentations for drawing in a small box.
///
/// A figure draws each picture in a box of about a hundred pixels, but Cairo needs a source
/// surface of the picture's own size, at most 32767 pixels a side: a 240 × 65552 image failed
/// with "surface size out of range", and a 3000 × 3000 one made a 36 MB surface per panel.
/// Pictures far larger than their box are therefore averaged down by a whole factor first
/// (each output pixel the mean of a factor × factor block, partial blocks at the right and
/// bottom edges averaged over the pixels they hold), which is also what Cairo's filter would
/// show. Small images, the usual case, are left exactly as they are.
enum Thumbnails {
  /// The whole factor by which `width × height` must shrink to fit `maxWidth × maxHeight`
  /// (1 when it fits already).
  static func factor(width: Int, height: Int, maxWidth: Int, maxHeight: Int) -> Int {
    let limitWidth = max(maxWidth, 1)
    let limitHeight = max(maxHeight, 1)
    let byWidth = (width + limitWidth - 1) / limitWidth
    let byHeight = (height + limitHeight - 1) / limitHeight
    return max(1, byWidth, byHeight)
  }

  /// Side lengths after shrinking by `factor` (rounded up: edge blocks may be partial).
  static func reducedSize(width: Int, height: Int, factor: Int) -> (width: Int, height: Int) {
    ((width + factor - 1) / factor, (height + factor - 1) / factor)
  }

  /// The image averaged over `factor × factor` blocks, per channel.
  static func reduced(_ image: Image, factor: Int) -> Image {
    guard factor > 1 else { return image }
    let pixels = reducedSamples(
      image.pixels, width: image.width, height: image.height, channels: image.channels,
      factor: factor)
    let size = reducedSize(width: image.width, height: image.height, factor: factor)
    return Image(
      shape: ImageShape(height: size.height, width: size.width, channels: image.channels),
      pixels: pixels)
  }

  /// A one-value-per-pixel map (weights) averaged over `factor × factor` blocks.
  static func reduced(_ map: [Double], width: Int, height: Int, factor: Int) -> [Double] {
    guard factor > 1 else { return map }
    return reducedSamples(map, width: width, height: height, channels: 1, factor: factor)
  }

  /// A segmentation sampled at the top-left pixel of every `factor × factor` block (labels are
  /// not averaged; boundaries between blocks of different segments stay where they were to
  /// within a block).
  static func reduced(_ segments: SegmentMap, factor: Int) -> SegmentMap {
    guard factor > 1 else { return segments }
    let size = reducedSize(width: segments.width, height: segments.height, factor: factor)
    var labels: [Int32] = []
    labels.reserveCapacity(size.width * size.height)
    for y in 0..<size.height {
      for x in 0..<size.width {
        labels.append(segments.labels[(y * factor) * segments.width + x * factor])
      }
    }
    // Sampling can drop a segment smaller than a block: relabel so the labels stay dense.
    return SegmentMap(width: size.width, height: size.height, denseLabels: labels)
  }

  private static func reducedSamples(
    _ samples: [Double], width: Int, height: Int, channels: Int, factor: Int
  ) -> [Double] {
    let size = reducedSize(width: width, height: height, factor: factor)
    var sums = [Double](repeating: 0, count: size.width * size.height * channels)
    var counts = [Int](repeating: 0, count: size.width * size.height)
    for y in 0..<height {
      let row = (y / factor) * size.width
      for x in 0..<width {
        let cell = row + x / factor
        counts[cell] += 1
        for c in 0..<channels {
          sums[cell * channels + c] += samples[(y * width + x) * channels + c]
        }
      }
    }
    for cell in 0..<counts.count where counts[cell] > 0 {
      for c in 0..<channels { sums[cell * channels + c] /= Double(counts[cell]) }
    }
    return sums
  }
}

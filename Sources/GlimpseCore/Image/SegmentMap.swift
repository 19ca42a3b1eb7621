/// A partition of an image's pixels into segments (superpixels) labelled `0..<count`, every
/// label present.
///
/// Labels are stored row-major (`y * width + x`), like the image. Whatever a segmenter produces
/// is relabelled on construction so that the invariant holds: explainers index segments
/// `0..<count` without checking (lime assumes it and breaks on scikit-image's labels from 1).
public struct SegmentMap: Sendable, Equatable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// The segment of each pixel, `0..<count`.
  public let labels: [Int32]
  /// Number of segments.
  public let count: Int

  /// Wraps raw labels of any integer values, relabelling them `0..<count` in increasing order
  /// of their values (scikit-image's `relabel_sequential` order, so label k here is the k-th
  /// smallest label there).
  public init(width: Int, height: Int, relabeling raw: [Int]) {
    precondition(raw.count == width * height, "labels (\(raw.count)) != \(width)×\(height)")
    let distinct = Array(Set(raw)).sorted()
    var labels = [Int32](repeating: 0, count: raw.count)
    if let first = distinct.first, let last = distinct.last, last - first < 1 << 24 {
      // Dense lookup table when the range is modest (the usual case).
      var table = [Int32](repeating: -1, count: last - first + 1)
      for (index, value) in distinct.enumerated() { table[value - first] = Int32(index) }
      for (pixel, value) in raw.enumerated() { labels[pixel] = table[value - first] }
    } else {
      let table = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, Int32($0)) })
      for (pixel, value) in raw.enumerated() { labels[pixel] = table[value] ?? 0 }
    }
    self.width = width
    self.height = height
    self.labels = labels
    self.count = distinct.count
  }

  /// Wraps labels that are usually already `0..<count` with every label present (as
  /// segmenters that number segments in order of discovery produce), without the sort and hash
  /// of `init(relabeling:)`: one pass checks the claim. Labels that are not dense (a gap, or a
  /// negative label) are relabelled as `init(relabeling:)` does, so the result is always
  /// what that initializer would give.
  public init(width: Int, height: Int, denseLabels raw: [Int32]) {
    precondition(raw.count == width * height, "labels (\(raw.count)) != \(width)×\(height)")
    var maximum: Int32 = -1
    var negative = false
    for value in raw {
      maximum = Swift.max(maximum, value)
      negative = negative || value < 0
    }
    var dense = !negative && Int(maximum) < raw.count
    if dense {
      var present = [Bool](repeating: false, count: Int(maximum) + 1)
      for value in raw { present[Int(value)] = true }
      dense = !present.contains(false)
    }
    guard dense else {
      self.init(width: width, height: height, relabeling: raw.map { Int($0) })
      return
    }
    // Increasing order of values is the identity on 0..<count.
    self.init(width: width, height: height, checkedLabels: raw, count: Int(maximum) + 1)
  }

  /// Labels already known to be `0..<count`, every label present.
  private init(width: Int, height: Int, checkedLabels labels: [Int32], count: Int) {
    self.width = width
    self.height = height
    self.labels = labels
    self.count = count
  }

  /// The segment at column `x`, row `y`.
  @inlinable
  public subscript(x: Int, y: Int) -> Int { Int(labels[y * width + x]) }

  /// Pixels per segment, `[count]`.
  public var sizes: [Int] {
    var sizes = [Int](repeating: 0, count: count)
    for label in labels { sizes[Int(label)] += 1 }
    return sizes
  }

  /// Whether the pixel at (x, y) lies on a segment boundary (its right or lower neighbour, or
  /// its left or upper one, belongs to another segment), as scikit-image's `find_boundaries`
  /// with `mode="thick"` marks both sides.
  public func isBoundary(x: Int, y: Int) -> Bool {
    let label = labels[y * width + x]
    if x + 1 < width && labels[y * width + x + 1] != label { return true }
    if x > 0 && labels[y * width + x - 1] != label { return true }
    if y + 1 < height && labels[(y + 1) * width + x] != label { return true }
    if y > 0 && labels[(y - 1) * width + x] != label { return true }
    return false
  }
}

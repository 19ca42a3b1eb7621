import GlimpseCore

/// A per-pixel weight map: the common ground on which explanations from different
/// segmentations can be compared and combined.
public struct WeightMap: Sendable, Equatable {
  /// Width in pixels.
  public let width: Int
  /// Height in pixels.
  public let height: Int
  /// One weight per pixel, row-major.
  public var values: [Double]

  /// Wraps per-pixel values.
  public init(width: Int, height: Int, values: [Double]) {
    precondition(values.count == width * height, "values (\(values.count)) != \(width)×\(height)")
    self.width = width
    self.height = height
    self.values = values
  }

  /// The map of explained class number `index` of an explanation (each pixel gets its segment's
  /// weight).
  public init(_ explanation: ImageExplanation, label index: Int) {
    self.init(
      width: explanation.segments.width, height: explanation.segments.height,
      values: explanation.pixelWeights(index))
  }

  /// The largest absolute value (0 for an all-zero map).
  public var maximumMagnitude: Double { values.reduce(0) { max($0, abs($1)) } }

  /// The map divided by its largest absolute value, so it spans [−1, 1] (unchanged when all 0).
  public func normalized() -> WeightMap {
    let scale = maximumMagnitude
    guard scale > 0 else { return self }
    return WeightMap(width: width, height: height, values: values.map { $0 / scale })
  }

  /// The seed notebook's `combine_weights`: each map normalised by its largest absolute value,
  /// summed, and the sum normalised again, so every segmenter has the same say and the result
  /// spans [−1, 1].
  public static func combined(_ maps: [WeightMap]) -> WeightMap {
    guard let first = maps.first else { preconditionFailure("combining needs at least one map") }
    var sum = [Double](repeating: 0, count: first.values.count)
    for map in maps {
      precondition(map.width == first.width && map.height == first.height, "maps differ in size")
      let normal = map.normalized()
      for index in sum.indices { sum[index] += normal.values[index] }
    }
    return WeightMap(width: first.width, height: first.height, values: sum).normalized()
  }

  /// `self − other`, pixel by pixel: for the first and second class, "why this and not that".
  public func subtracting(_ other: WeightMap) -> WeightMap {
    precondition(width == other.width && height == other.height, "maps differ in size")
    return WeightMap(
      width: width, height: height, values: zip(values, other.values).map { $0 - $1 })
  }
}

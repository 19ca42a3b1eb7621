import GlimpseCore

/// Splits an image into superpixels.
///
/// Segmenters work on grey and colour images alike and never see a model.
public protocol Segmenter: Sendable {
  /// The spec that recreates this segmenter on the command line, e.g. `slic:25:0.01`.
  var spec: SegmenterSpec { get }

  /// Segments an image.
  /// - Parameter image: `[height, width, channels]`, values usually in [0, 1].
  /// - Returns: A map whose labels are exactly `0..<map.count`, each present.
  func segment(_ image: Image) -> SegmentMap
}

import GlimpseCore

/// A region of interest: the pixels a segmenter should segment (scikit-image's `mask`).
///
/// Read from an image: a pixel is inside when any of its channels is non-zero, so a black and
/// white PNG drawn over the image marks its inside in white.
public struct RegionMask: Sendable, Equatable {
  /// Pixels per row.
  public let width: Int
  /// Rows.
  public let height: Int
  /// Row-major: whether each pixel is inside.
  public let inside: [Bool]

  /// A mask from its pixels.
  /// - Precondition: `inside.count == width × height`.
  public init(width: Int, height: Int, inside: [Bool]) {
    precondition(inside.count == width * height, "mask (\(inside.count)) != \(width)×\(height)")
    self.width = width
    self.height = height
    self.inside = inside
  }

  /// The non-zero pixels of `image` (any channel).
  public init(image: Image) {
    let channels = image.channels
    var inside = [Bool](repeating: false, count: image.width * image.height)
    for p in inside.indices {
      for c in 0..<channels where image.pixels[p * channels + c] != 0 {
        inside[p] = true
        break
      }
    }
    self.init(width: image.width, height: image.height, inside: inside)
  }

  /// How many pixels are inside.
  public var insideCount: Int { inside.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

extension SegmentMap {
  /// The segments that have at least one pixel inside `mask`, in label order: the ones LIME
  /// may hide. A masked SLIC's outside segment has none.
  /// - Precondition: `mask` has the map's size.
  public func segments(inside mask: RegionMask) -> [Int] {
    precondition(mask.width == width && mask.height == height, "mask size != map size")
    var touches = [Bool](repeating: false, count: count)
    for p in labels.indices where mask.inside[p] { touches[Int(labels[p])] = true }
    return touches.indices.filter { touches[$0] }
  }

  /// This map cut to `mask`: a segment that straddles the boundary keeps only its inside part,
  /// and every outside pixel joins one last segment, so no segment mixes inside and outside
  /// (what LIME needs to keep the outside as it is). A masked SLIC's map is returned unchanged
  /// up to numbering.
  /// - Precondition: `mask` has the map's size.
  public func restricted(to mask: RegionMask) -> SegmentMap {
    precondition(mask.width == width && mask.height == height, "mask size != map size")
    // Inside pixels keep their label; outside ones get `count`, above every inside label, so
    // the relabelling keeps the inside order and puts the outside last.
    let raw = labels.indices.map { mask.inside[$0] ? Int(labels[$0]) : count }
    return SegmentMap(width: width, height: height, relabeling: raw)
  }
}

/// A segmenter whose maps are cut to a region of interest (`SegmentMap.restricted(to:)`).
public struct MaskedSegmenter: Segmenter {
  /// The segmenter cut.
  public let inner: any Segmenter
  /// The region of interest.
  public let mask: RegionMask

  /// `inner`'s maps cut to `mask`.
  public init(_ inner: any Segmenter, mask: RegionMask) {
    self.inner = inner
    self.mask = mask
  }

  /// The inner segmenter's spec (a mask is an image, not text).
  public var spec: SegmenterSpec { inner.spec }

  /// The inner map cut to the mask, the outside last.
  /// - Precondition: the image has the mask's size.
  public func segment(_ image: Image) -> SegmentMap {
    inner.segment(image).restricted(to: mask)
  }
}

extension Segmenter {
  /// This segmenter restricted to `mask`: SLIC segments only inside it (maskSLIC, as
  /// scikit-image's `mask`), any other segmenter's segments are cut to it.
  public func masked(by mask: RegionMask) -> any Segmenter {
    if var slic = self as? SLICSegmenter {
      slic.mask = mask
      return slic
    }
    return MaskedSegmenter(self, mask: mask)
  }
}

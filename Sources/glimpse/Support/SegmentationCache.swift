import Glibc
import GlimpseCore
import GlimpseData
import GlimpseSegmentation

/// Segment maps kept on disk between runs, so that explaining the same image again (another
/// model, more samples, a re-run of a batch) does not segment it again: quickshift and
/// Felzenszwalb on a 224×224 image cost more than LIME's fits (issue #16, item 4).
///
/// A map is filed under a key made of the image's digest (SHA-256 of its shape and the bit
/// patterns of its samples, so only an identical image matches), the segmenter's spec, and the
/// running program's version and build (size and modification time of the executable), so that
/// a rebuilt or upgraded Glimpse, whose segmenters may have changed, never reads maps an older
/// one wrote.
/// Files are `DIR/ab/abcdef….seg.gz` (the SHA-256 of the key; `SegmentMapCodec`), written
/// atomically. The cache is an optimisation only: a file that is missing, unreadable, corrupt,
/// truncated, of another format or filed under another key is ignored and the map recomputed
/// (and written again); a folder that cannot be written is ignored too.
struct SegmentationCache: Sendable {
  /// The folder holding the maps.
  let directory: String

  /// `--segment-cache`: `off` gives no cache, a folder that folder, and no option the default
  /// folder (`defaultDirectory`), or no cache when there is no home to put it in.
  static func resolve(_ option: String?) -> SegmentationCache? {
    if let option {
      return option == "off" ? nil : SegmentationCache(directory: option)
    }
    return defaultDirectory().map(SegmentationCache.init(directory:))
  }

  /// `$XDG_CACHE_HOME/glimpse/segments` (the XDG base directory specification: used when set
  /// to an absolute path), else `$HOME/.cache/glimpse/segments`; `nil` without either.
  static func defaultDirectory() -> String? {
    if let xdg = environment("XDG_CACHE_HOME"), xdg.hasPrefix("/") {
      return xdg + "/glimpse/segments"
    }
    if let home = environment("HOME"), !home.isEmpty { return home + "/.cache/glimpse/segments" }
    return nil
  }

  private static func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
  }

  /// The SHA-256 of an image's shape and samples (their IEEE bit patterns, little-endian).
  static func imageDigest(_ image: Image) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(24 + image.pixels.count * 8)
    for dimension in [image.height, image.width, image.channels] {
      withUnsafeBytes(of: UInt64(dimension).littleEndian) { bytes += $0 }
    }
    for value in image.pixels {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }
    return SHA256.hexDigest(bytes)
  }

  /// The key of `spec`'s map of the image with digest `imageDigest`.
  static func key(imageDigest: String, spec: SegmenterSpec) -> String {
    "glimpse \(Glimpse.version) build \(build) segments \(spec.description) image \(imageDigest)"
  }

  /// The executable's size and modification time (`/proc/self/exe`), or "unknown".
  static let build: String = {
    var info = stat()
    guard stat("/proc/self/exe", &info) == 0 else { return "unknown" }
    return "\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
  }()

  /// Where the map filed under `key` lives.
  func path(forKey key: String) -> String {
    let name = SHA256.hexDigest(Array(key.utf8))
    return "\(directory)/\(name.prefix(2))/\(name).seg.gz"
  }

  /// The map filed under `key`, when a valid one of that size is there.
  func load(key: String, width: Int, height: Int) -> SegmentMap? {
    // A map is at most 4 bytes a pixel before compression: anything larger is not one of ours.
    guard
      let bytes = try? FileBytes.readRaw(
        path(forKey: key), maxBytes: 64 + 8 * width * height + key.utf8.count),
      let map = try? SegmentMapCodec.decode(bytes, key: key, maxPixels: width * height),
      map.width == width, map.height == height
    else { return nil }
    return map
  }

  /// Files `map` under `key`; a failure (read-only or full disk) leaves the cache as it was.
  func store(_ map: SegmentMap, key: String) {
    try? AtomicFile.write(SegmentMapCodec.encode(map, key: key), to: path(forKey: key))
  }

  /// `segmenters`, each reading and filling this cache for `image` (digested once here).
  func segmenters(_ segmenters: [any Segmenter], for image: Image) -> [any Segmenter] {
    let digest = Self.imageDigest(image)
    return segmenters.map {
      CachedSegmenter(inner: $0, cache: self, image: image, imageDigest: digest)
    }
  }
}

/// A segmenter that looks in a `SegmentationCache` first, for the one image it was made for
/// (any other image is segmented afresh, never looked up under that image's key).
struct CachedSegmenter: Segmenter {
  let inner: any Segmenter
  let cache: SegmentationCache
  /// The image `imageDigest` digests (shared storage: comparing it costs no copy).
  let image: Image
  let imageDigest: String

  var spec: SegmenterSpec { inner.spec }

  func segment(_ image: Image) -> SegmentMap {
    guard image == self.image else { return inner.segment(image) }
    let key = SegmentationCache.key(imageDigest: imageDigest, spec: inner.spec)
    if let map = cache.load(key: key, width: image.width, height: image.height) { return map }
    let map = inner.segment(image)
    cache.store(map, key: key)
    return map
  }
}

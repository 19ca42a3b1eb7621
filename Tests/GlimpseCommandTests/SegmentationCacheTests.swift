import Foundation
import GlimpseCore
import GlimpseData
import GlimpseReport
import GlimpseSegmentation
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: the segmentation cache")
struct SegmentationCacheTests {
  static let digit = TestPaths.samples + "/digits/3/1500.png"

  /// A small SVM on the sample folder.
  func model(in d: String) -> String {
    let path = d + "/svm.glimpse"
    #expect(run(["train", TestPaths.samples + "/digits", "--out", path]) == (0, []))
    return path
  }

  func explain(_ model: String, cache: String, out: String) throws -> ExplanationSidecar {
    #expect(
      run([
        "explain", model, "--image", Self.digit, "--samples", "30", "--segmenter", "slic:25:0.1",
        "--segmenter", "grid:4", "--segment-cache", cache, "--out", out,
      ]) == (0, []))
    return try JSONDecoder().decode(
      ExplanationSidecar.self, from: Data(FileBytes.readRaw(sidecarPath(for: out))))
  }

  /// The digit as explain sees it (the model's 28×28 grey input) and its cache keys.
  func keys() throws -> [String] {
    let digest = SegmentationCache.imageDigest(try readImageFile(Self.digit))
    return try ["slic:25:0.1", "grid:4"].map {
      SegmentationCache.key(imageDigest: digest, spec: try SegmenterSpec(parsing: $0))
    }
  }

  @Test("a second run reads the maps the first wrote: a map planted under an image's key is used")
  func secondRunReadsTheCache() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    let cache = SegmentationCache(directory: d + "/cache")
    let first = try explain(model, cache: cache.directory, out: d + "/a.png")
    let keys = try keys()
    for (key, segmentation) in zip(keys, first.segmenters) {
      let stored = try SegmentMapCodec.decode(FileBytes.readRaw(cache.path(forKey: key)), key: key)
      #expect(stored.labels == segmentation.segments, "\(segmentation.spec)")
    }
    // Plant a different valid map (two halves) under the SLIC key: the next run must use it.
    let halves = SegmentMap(
      width: 28, height: 28, relabeling: (0..<784).map { $0 % 28 < 14 ? 0 : 1 })
    try AtomicFile.write(
      SegmentMapCodec.encode(halves, key: keys[0]), to: cache.path(forKey: keys[0]))
    let second = try explain(model, cache: cache.directory, out: d + "/b.png")
    #expect(second.segmenters[0].segments == halves.labels)
    #expect(second.segmenters[0].segmentCount == 2)
    #expect(second.segmenters[1].segments == first.segmenters[1].segments)
  }

  @Test(
    "corrupt, truncated or foreign cache files are ignored and rewritten; the explanation is unchanged"
  )
  func corruptFilesAreRecomputed() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    let cache = SegmentationCache(directory: d + "/cache")
    let reference = try explain(model, cache: "off", out: d + "/ref.png")
    let keys = try keys()
    let good = SegmentMapCodec.encode(
      SegmentMap(width: 28, height: 28, relabeling: Array(repeating: 0, count: 784)), key: keys[0])
    let damaged: [[UInt8]] = [
      [], Array(good.prefix(good.count / 2)), Array("not a cache file".utf8),
      // Another key's map.
      SegmentMapCodec.encode(
        SegmentMap(width: 28, height: 28, relabeling: Array(0..<784)), key: keys[1]),
      SegmentMapCodec.encode(
        SegmentMap(width: 14, height: 56, relabeling: Array(repeating: 0, count: 784)), key: keys[0]
      ),  // another size
    ]
    for (n, bytes) in damaged.enumerated() {
      try writeFile(bytes, to: cache.path(forKey: keys[0]))
      let again = try explain(model, cache: cache.directory, out: d + "/c\(n).png")
      #expect(again.segmenters.map(\.segments) == reference.segmenters.map(\.segments), "case \(n)")
      #expect(again.segmenters.map(\.weights) == reference.segmenters.map(\.weights), "case \(n)")
      let rewritten = try SegmentMapCodec.decode(
        FileBytes.readRaw(cache.path(forKey: keys[0])), key: keys[0])
      #expect(rewritten.labels == reference.segmenters[0].segments, "case \(n)")
    }
  }

  @Test("--segment-cache off writes no cache; an empty value is a usage error")
  func offWritesNothing() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    _ = try explain(model, cache: "off", out: d + "/a.png")
    #expect(!FileManager.default.fileExists(atPath: d + "/off"))
    #expect(SegmentationCache.resolve("off") == nil)
    #expect(SegmentationCache.resolve(d + "/x")?.directory == d + "/x")
    #expect(
      run(["explain", model, "--image", Self.digit, "--segment-cache", ""]).status
        == ExitStatus.usage)
  }

  @Test("a cache folder that cannot be written does not stop the explanation")
  func unwritableFolder() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    try writeFile(Array("a file, not a folder".utf8), to: d + "/blocked")
    let sidecar = try explain(model, cache: d + "/blocked", out: d + "/a.png")
    #expect(sidecar.segmenters.count == 2)
  }

  @Test("the image digest changes with any sample and with the shape")
  func digestSeesEverySample() {
    let image = Image(shape: ImageShape(height: 2, width: 3), pixels: [0, 0.1, 0.2, 0.3, 0.4, 0.5])
    var nudged = image
    nudged.pixels[5] = 0.5.nextUp
    let reshaped = Image(shape: ImageShape(height: 3, width: 2), pixels: image.pixels)
    let digests = Set([image, nudged, reshaped].map(SegmentationCache.imageDigest))
    #expect(digests.count == 3)
    #expect(SegmentationCache.imageDigest(image) == SegmentationCache.imageDigest(image))
  }
}

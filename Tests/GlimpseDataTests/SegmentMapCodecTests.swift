import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

@Suite("Segment map codec (the segmentation cache's files)")
struct SegmentMapCodecTests {
  /// A map with `count` (≤ pixels) segments on a width × height image: runs of pixels in scan
  /// order, numbered out of order (× 7919, a prime, modulo count).
  func stripes(width: Int, height: Int, count: Int) -> SegmentMap {
    let pixels = width * height
    let raw = (0..<pixels).map { index in (index * count / pixels * 7919) % count }
    return SegmentMap(width: width, height: height, denseLabels: raw.map { Int32($0) })
  }

  @Test(
    "encode then decode gives the same map, for 1-, 2- and 4-byte labels",
    arguments: [(9, 7, 5, 1), (40, 30, 300, 2), (300, 230, 66_000, 4)])
  func roundTrip(width: Int, height: Int, count: Int, labelBytes: Int) throws {
    let map = stripes(width: width, height: height, count: count)
    #expect(map.count == count)
    #expect(SegmentMapCodec.bytesPerLabel(count: count) == labelBytes)
    let bytes = SegmentMapCodec.encode(map, key: "k1")
    #expect(try SegmentMapCodec.decode(bytes, key: "k1") == map)
  }

  @Test("a single-segment map and a one-pixel map round-trip")
  func edgeMaps() throws {
    for map in [
      SegmentMap(width: 5, height: 4, relabeling: Array(repeating: 3, count: 20)),
      SegmentMap(width: 1, height: 1, relabeling: [0]),
    ] {
      #expect(try SegmentMapCodec.decode(SegmentMapCodec.encode(map, key: ""), key: "") == map)
    }
  }

  @Test("a file filed under another key is refused")
  func otherKey() {
    let bytes = SegmentMapCodec.encode(stripes(width: 8, height: 8, count: 4), key: "image A slic")
    #expect(throws: CodecError("filed under another key")) {
      try SegmentMapCodec.decode(bytes, key: "image B slic")
    }
  }

  @Test("every truncation of a file is refused, and no single flipped byte decodes to another map")
  func corruptFiles() {
    let map = stripes(width: 12, height: 10, count: 6)
    let bytes = SegmentMapCodec.encode(map, key: "k")
    for length in 0..<bytes.count {
      #expect(throws: CodecError.self, "first \(length) bytes") {
        try SegmentMapCodec.decode(Array(bytes[0..<length]), key: "k")
      }
    }
    var refused = 0
    for index in bytes.indices {
      var flipped = bytes
      flipped[index] ^= 0x10
      // gzip's header flags, time and OS bytes and deflate's padding bits are outside its CRC:
      // such a flip may decode, but only to the same map.
      do {
        #expect(try SegmentMapCodec.decode(flipped, key: "k") == map, "byte \(index) flipped")
      } catch {
        refused += 1
      }
    }
    #expect(refused >= bytes.count - 8)
  }

  @Test("payloads whose header and labels disagree are refused with the reason")
  func inconsistentPayloads() {
    let map = stripes(width: 4, height: 3, count: 3)
    let good = SegmentMapCodec.payload(map, key: "k")
    func decode(_ payload: [UInt8]) throws(CodecError) -> SegmentMap {
      try SegmentMapCodec.decode(FileBytes.gzip(payload), key: "k")
    }
    #expect(throws: Never.self) { try decode(good) }
    var label = good
    label[label.count - 1] = 3  // a label equal to the segment count
    #expect(throws: CodecError("label 3 at pixel 11, only 3 segments")) { try decode(label) }
    var missing = good
    for index in (missing.count - 12)..<missing.count where missing[index] == 2 {
      missing[index] = 0
    }
    #expect(throws: CodecError("segment 2 of 3 has no pixel")) { try decode(missing) }
    var version = good
    version[8] = 2
    #expect(throws: CodecError("segment map format 2, expected 1")) { try decode(version) }
    var width = good
    width[12] = 5  // 5 × 3 pixels claimed, 12 stored
    #expect(throws: CodecError("length \(good.count) does not match its header")) {
      try decode(width)
    }
    var count = good
    count[20] = 13  // more segments than pixels
    #expect(throws: CodecError("13 segments with 1-byte labels for 12 pixels")) {
      try decode(count)
    }
    #expect(throws: CodecError("not a Glimpse segment map")) {
      try decode(Array("GLSEGMAX".utf8) + good.dropFirst(8))
    }
    #expect(throws: CodecError("not a gzip stream")) { try SegmentMapCodec.decode(good, key: "k") }
  }
}

import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

@Suite("bzip2 decoded block by block on all cores")
struct BZip2BlocksTests {
  /// Random-ish CSV text (digits and commas from a seeded generator), `count` bytes.
  static func text(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededGenerator(seed: seed)
    var bytes = [UInt8]()
    bytes.reserveCapacity(count)
    while bytes.count < count {
      let value = rng.next() % 256
      bytes.append(contentsOf: "\(value)".utf8)
      bytes.append(rng.next() % 29 == 0 ? UInt8(ascii: "\n") : UInt8(ascii: ","))
    }
    return Array(bytes.prefix(count))
  }

  /// 3 MB at level 1 (100 kB blocks): about thirty blocks.
  static let generated = text(3_000_000, seed: 7)
  static let generatedPacked = FileBytes.bzip2(generated, level: 1)

  func layout(_ packed: [UInt8]) -> [BZip2Blocks.Block]? {
    packed.withUnsafeBufferPointer { buffer in
      ByteView(buffer).flatMap { BZip2Blocks.layout($0, marks: BZip2Blocks.scan($0)) }
    }
  }

  func isCorrupt(_ error: any Error) -> Bool {
    if case .corruptCompressedFile? = error as? DataError { return true }
    return false
  }

  @Test("the sample image table: parallel output is byte-identical to libbz2's sequential output")
  func sampleTable() throws {
    let packed = try FileBytes.readRaw(TestPaths.samples + "/mnist/mnist-imgs-mini.csv.bz2")
    let blocks = try #require(layout(packed))
    #expect(blocks.count > 5)
    let parallel = try #require(BZip2Blocks.decompress(packed).bytes)
    #expect(parallel == (try FileBytes.bunzip2(packed, path: "t")))
    #expect(try FileBytes.read(TestPaths.samples + "/mnist/mnist-imgs-mini.csv.bz2") == parallel)
  }

  @Test("generated multi-block data at level 1: every block found, output equals the input")
  func generatedBlocks() throws {
    let blocks = try #require(layout(Self.generatedPacked))
    // 100 kB blocks hold a little less after bzip2's run-length step, never more.
    #expect(blocks.count >= Self.generated.count / 100_000)
    #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.end == $1.start })
    let parallel = try #require(BZip2Blocks.decompress(Self.generatedPacked).bytes)
    #expect(parallel == Self.generated)
  }

  @Test("concatenated streams of different block sizes are mapped stream by stream, in order")
  func multiStream() throws {
    let second = Self.text(700_000, seed: 8)
    let packed =
      Self.generatedPacked + FileBytes.bzip2(second, level: 3) + FileBytes.bzip2([], level: 9)
    let blocks = try #require(layout(packed))
    #expect(Set(blocks.map(\.level)) == [UInt8(ascii: "1"), UInt8(ascii: "3")])
    let parallel = try #require(BZip2Blocks.decompress(packed).bytes)
    #expect(parallel == Self.generated + second)
    #expect(parallel == (try FileBytes.bunzip2(packed, path: "t")))
  }

  @Test("a damaged byte: no parallel result, and reading reports a corrupt compressed file")
  func corrupted() throws {
    let directory = makeTemporaryDirectory()
    for position in [Self.generatedPacked.count / 3, Self.generatedPacked.count / 2 + 17] {
      var packed = Self.generatedPacked
      packed[position] ^= 0x10
      #expect(BZip2Blocks.decompress(packed).bytes == nil)
      try writeFile(packed, to: directory + "/bad.csv.bz2")
      #expect { try FileBytes.read(directory + "/bad.csv.bz2") } throws: { isCorrupt($0) }
    }
    // Cut inside the last block: the end magic is missing.
    let cut = Array(Self.generatedPacked.prefix(Self.generatedPacked.count - 500))
    #expect(BZip2Blocks.decompress(cut).bytes == nil)
    try writeFile(cut, to: directory + "/cut.csv.bz2")
    #expect { try FileBytes.read(directory + "/cut.csv.bz2") } throws: { isCorrupt($0) }
  }

  @Test("a chance block magic inside a block: the layout's CRC fold or the pieces' CRCs reject it")
  func chanceMagic() throws {
    let packed = Self.generatedPacked
    let blocks = try #require(layout(packed))
    let middle = (blocks[3].start + blocks[3].end) / 2
    packed.withUnsafeBufferPointer { buffer in
      let bytes = ByteView(buffer)!
      // A magic "found" in the middle of the fourth block, as a chance match would be: the 32
      // bits after it are not a block CRC, so the stored CRCs no longer fold to the stream's.
      var marks = BZip2Blocks.scan(bytes)
      marks.append(.init(bit: middle, isEnd: false))
      marks.sort { $0.bit < $1.bit }
      #expect(BZip2Blocks.layout(bytes, marks: marks) == nil)
      // Even with the fold passing, the two halves fail libbz2's checks.
      var split = blocks
      split[3].end = middle
      split.insert(.init(start: middle, end: blocks[3].end, crc: 0, level: blocks[3].level), at: 4)
      #expect(BZip2Blocks.decode(split, in: bytes).bytes == nil)
      #expect(BZip2Blocks.decode(blocks, in: bytes).bytes == Self.generated)
    }
  }

  @Test("trailing bytes holding a block magic: sequential fallback, read as bzip2(1) reads it")
  func trailingBytes() throws {
    let directory = makeTemporaryDirectory()
    // Garbage after the stream, with a block magic at a byte boundary inside it.
    let garbage: [UInt8] = [0x00, 0x31, 0x41, 0x59, 0x26, 0x53, 0x59, 0xAB, 0xCD]
    let packed = Self.generatedPacked + garbage
    #expect(BZip2Blocks.decompress(packed).bytes == nil)
    try writeFile(packed, to: directory + "/tail.csv.bz2")
    #expect(try FileBytes.read(directory + "/tail.csv.bz2") == Self.generated)
  }

  @Test("re-wrapping a block copies its bits exactly, at every bit alignment")
  func rewrapAlignment() throws {
    let packed = Self.generatedPacked
    let blocks = try #require(layout(packed))
    #expect(Set(blocks.map { $0.start % 8 }).count > 4)
    packed.withUnsafeBufferPointer { buffer in
      let bytes = ByteView(buffer)!
      for block in blocks.prefix(12) {
        let wrapped = BZip2Blocks.rewrap(block, in: bytes)
        wrapped.withUnsafeBufferPointer { wrappedBuffer in
          let copy = ByteView(wrappedBuffer)!
          var bit = 0
          var same = true
          while bit < block.end - block.start {
            let width = min(48, block.end - block.start - bit)
            same =
              same
              && copy.bits(at: 32 + bit, count: width)
                == bytes.bits(at: block.start + bit, count: width)
            bit += width
          }
          #expect(same)
          #expect(copy.bits(at: 32 + bit, count: 48) == BZip2Blocks.endMagic)
          #expect(UInt32(copy.bits(at: 32 + bit + 48, count: 32)) == block.crc)
          #expect(wrapped.count == (32 + bit + 80 + 7) / 8)
        }
      }
    }
  }

  @Test("an empty bzip2 stream reads as no bytes")
  func emptyStream() throws {
    let directory = makeTemporaryDirectory()
    try writeFile(FileBytes.bzip2([]), to: directory + "/empty.bz2")
    #expect(try FileBytes.read(directory + "/empty.bz2") == [])
  }
}

import CBZ2
import Glibc
import GlimpseCore
import Synchronization

// Decoding one bzip2 file on every core.
//
// A bzip2 stream is "BZh" + a block-size digit, then blocks, each opened by the 48-bit magic
// 0x314159265359 and its 32-bit CRC, then the 48-bit end magic 0x177245385090, the 32-bit
// combined CRC and zero bits up to a byte. Blocks are independent (each carries its own Huffman
// tables and BWT origin) but they are packed bit after bit, so a block starts at any bit, and no
// index says where. We find them by scanning every bit offset for the magics, copy each block
// to byte alignment behind a fresh header and in front of an end magic whose combined CRC is the
// block's own (for a single block, combined = rotate(0) ^ crc = crc), and let libbz2 decode the
// pieces on all cores. Outputs are joined in file order.
//
// The magics can also occur by chance inside compressed data (about one file in 10^8 of this
// size). Such a split is caught because libbz2 checks every piece's CRC, and the stored block
// CRCs must fold to each stream's stored combined CRC; any mismatch, odd layout or error returns
// nil, and the caller decodes the file sequentially, which also produces the error message for a
// file that really is corrupt. Concatenated streams (`cat a.bz2 b.bz2`, pbzip2 output) are
// mapped stream by stream; trailing bytes after the last stream send the file to the
// sequential decoder, which ignores them as bzip2(1) does.

/// The blocks of a bzip2 file and their parallel decoding.
enum BZip2Blocks {
  static let blockMagic: UInt64 = 0x3141_5926_5359
  static let endMagic: UInt64 = 0x1772_4538_5090

  /// One compressed block: its bits `start..<end` (from its magic to the next magic) in the file.
  struct Block: Equatable, Sendable {
    var start: Int
    var end: Int
    /// The CRC of the block's decompressed bytes, as stored after its magic.
    var crc: UInt32
    /// The stream's block-size digit ("1"..."9"), which bounds the block's size for libbz2.
    var level: UInt8
  }

  /// A magic found by the scan: its first bit, and whether it ends a stream.
  struct Mark: Equatable {
    var bit: Int
    var isEnd: Bool
  }

  /// Files smaller than this are decoded sequentially: one or two blocks gain nothing.
  static let minimumParallelSize = 1 << 18

  /// What the parallel decoder made of a file.
  enum Outcome {
    /// The whole file, decoded.
    case decoded([UInt8])
    /// The blocks decoded so far already pass `maxBytes`; the rest were not decoded.
    case tooLarge
    /// The file could not be mapped into blocks, or a check failed: decode it sequentially.
    case unmapped

    /// The bytes, when decoded.
    var bytes: [UInt8]? {
      if case .decoded(let bytes) = self { return bytes }
      return nil
    }
  }

  /// The decompressed bytes of `input` (a bzip2 file), decoded block-parallel on
  /// `Parallelism.threadCount` threads; decoding stops soon after `maxBytes` is passed (a bomb's
  /// blocks each inflate to up to ~45 MB).
  static func decompress(_ input: [UInt8], maxBytes: Int = ReadLimits().maxFileBytes) -> Outcome {
    input.withUnsafeBufferPointer { buffer -> Outcome in
      guard let bytes = ByteView(buffer), let blocks = layout(bytes, marks: scan(bytes)),
        blocks.count > 1
      else { return .unmapped }
      return decode(blocks, in: bytes, maxBytes: maxBytes)
    }
  }

  /// The blocks decoded in parallel and joined in order.
  ///
  /// One parallel pass over all blocks, so that a thread slowed by another process's load only
  /// delays the blocks it holds (in passes of a few blocks each, every pass waited for its
  /// slowest block). Decoding stops soon after `maxBytes` is passed: a block not yet started
  /// is skipped once the blocks finished so far exceed it, so at most one block per thread
  /// (each ~45 MB at worst) is decoded past the limit.
  static func decode(_ blocks: [Block], in bytes: ByteView, maxBytes: Int = Int.max) -> Outcome {
    let progress = DecodeProgress()
    let decoded = parallelMap(blocks.count) { index -> [UInt8]? in
      if progress.overLimit.load(ordering: .relaxed) { return [] }
      let piece = decode(blocks[index], in: bytes)
      let total = progress.bytes.wrappingAdd(piece?.count ?? 0, ordering: .relaxed).newValue
      if total > maxBytes { progress.overLimit.store(true, ordering: .relaxed) }
      return piece
    }
    if progress.overLimit.load(ordering: .relaxed) { return .tooLarge }
    var pieces = [[UInt8]]()
    pieces.reserveCapacity(blocks.count)
    var total = 0
    for piece in decoded {
      guard let piece else { return .unmapped }
      total += piece.count
      pieces.append(piece)
    }
    return .decoded(
      [UInt8](unsafeUninitializedCapacity: total) { target, count in
        var offset = 0
        for piece in pieces {
          piece.withUnsafeBufferPointer { source in
            if let from = source.baseAddress, let to = target.baseAddress {
              memcpy(to + offset, from, source.count)
            }
          }
          offset += piece.count
        }
        count = total
      })
  }

  /// Every block of every stream in the file, in order; `nil` when the magics found do not form
  /// streams exactly (a chance magic, a damaged or truncated file, trailing bytes).
  static func layout(_ bytes: ByteView, marks: [Mark]) -> [Block]? {
    var blocks = [Block]()
    var next = 0  // the next mark to account for
    var streamStart = 0  // byte offset of the current stream's "BZh"
    while streamStart < bytes.count {
      guard streamStart + 4 <= bytes.count, bytes[streamStart] == 0x42,
        bytes[streamStart + 1] == 0x5A,
        bytes[streamStart + 2] == 0x68, (0x31...0x39).contains(bytes[streamStart + 3])
      else { return nil }
      let level = bytes[streamStart + 3]
      var bit = (streamStart + 4) * 8
      var combined: UInt32 = 0
      // Each mark must sit exactly where the previous block ends; the stream ends at an end mark.
      while true {
        guard next < marks.count, marks[next].bit == bit else { return nil }
        let mark = marks[next]
        next += 1
        if mark.isEnd {
          guard bit + 80 <= bytes.count * 8 else { return nil }
          let stored = UInt32(bytes.bits(at: bit + 48, count: 32))
          guard stored == combined else { return nil }
          streamStart = (bit + 80 + 7) / 8
          break
        }
        guard next < marks.count, bit + 80 <= bytes.count * 8 else { return nil }
        let crc = UInt32(bytes.bits(at: bit + 48, count: 32))
        combined = (combined << 1 | combined >> 31) ^ crc
        blocks.append(Block(start: bit, end: marks[next].bit, crc: crc, level: level))
        bit = marks[next].bit
      }
    }
    return next == marks.count ? blocks : nil
  }

  /// The bit offsets of every block and end magic in the file, in order.
  ///
  /// A magic starting at bit `s` of byte `i` fixes all of byte `i + 1`, so a 256-entry table of
  /// "which shifts could start here" rules out almost every byte with one lookup; the survivors
  /// are compared in full.
  static func scan(_ bytes: ByteView) -> [Mark] {
    var marks = [Mark]()
    let table = candidateTable
    let bitCount = bytes.count * 8
    table.withUnsafeBufferPointer { table in
      var index = 0
      while index + 1 < bytes.count {
        let shifts = table[Int(bytes[index + 1])]
        if shifts != 0 {
          for shift in 0..<8 where shifts & (0x101 << shift) != 0 {
            let bit = index * 8 + shift
            guard bit + 48 <= bitCount else { continue }
            let window = bytes.bits(at: bit, count: 48)
            if window == blockMagic {
              marks.append(Mark(bit: bit, isEnd: false))
            } else if window == endMagic {
              marks.append(Mark(bit: bit, isEnd: true))
            }
          }
        }
        index += 1
      }
    }
    return marks
  }

  /// For each value of byte `i + 1`: bit `s` set when a block magic starting at bit `s` of byte
  /// `i` would put that value there, bit `8 + s` the same for the end magic.
  private static let candidateTable: [UInt16] = {
    var table = [UInt16](repeating: 0, count: 256)
    for shift in 0..<8 {
      // The byte after the one holding the magic's first bit holds magic bits 8-s ..< 16-s.
      let low = 48 - (16 - shift)
      table[Int((blockMagic >> UInt64(low)) & 0xFF)] |= 1 << UInt16(shift)
      table[Int((endMagic >> UInt64(low)) & 0xFF)] |= 1 << UInt16(8 + shift)
    }
    return table
  }()

  /// The block as a stream of its own: header, its bits moved to byte alignment, end magic and
  /// the block's CRC as the combined CRC, zero-padded to a byte.
  static func rewrap(_ block: Block, in bytes: ByteView) -> [UInt8] {
    let bitCount = block.end - block.start
    let totalBits = 32 + bitCount + 80
    var output = [UInt8](repeating: 0, count: (totalBits + 7) / 8)
    output.withUnsafeMutableBufferPointer { output in
      output[0] = 0x42
      output[1] = 0x5A
      output[2] = 0x68
      output[3] = block.level
      let first = block.start / 8
      let shift = block.start % 8
      let byteCount = (bitCount + 7) / 8
      for index in 0..<byteCount {
        let high = bytes[first + index] << shift
        let low =
          shift > 0 && first + index + 1 < bytes.count ? bytes[first + index + 1] >> (8 - shift) : 0
        output[4 + index] = high | low
      }
      // Clear the bits of the next magic that came along with the last byte.
      if bitCount % 8 != 0 { output[4 + byteCount - 1] &= 0xFF << (8 - bitCount % 8) }
      var bit = 32 + bitCount
      for (value, width) in [(endMagic, 48), (UInt64(block.crc), 32)] {
        for position in stride(from: width - 1, through: 0, by: -1) {
          if (value >> UInt64(position)) & 1 != 0 { output[bit / 8] |= 0x80 >> UInt8(bit % 8) }
          bit += 1
        }
      }
    }
    return output
  }

  /// The block's decompressed bytes; `nil` when libbz2 reports any error (a CRC mismatch
  /// included) or the piece does not end where it should.
  static func decode(_ block: Block, in bytes: ByteView) -> [UInt8]? {
    var piece = rewrap(block, in: bytes)
    var stream = bz_stream()
    guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else { return nil }
    defer { BZ2_bzDecompressEnd(&stream) }
    // A block holds at most level × 100 000 bytes before bzip2's first run-length step, which
    // can only have shortened it; start there and grow for long runs.
    var output = [UInt8](repeating: 0, count: Int(block.level - 0x30) * 100_000 + 4096)
    var produced = 0
    let status = piece.withUnsafeMutableBytes { source -> Int32 in
      stream.next_in = source.baseAddress?.assumingMemoryBound(to: CChar.self)
      stream.avail_in = UInt32(source.count)
      while true {
        if produced == output.count {
          output.append(contentsOf: repeatElement(0, count: output.count))
        }
        let status = output.withUnsafeMutableBytes { target -> Int32 in
          stream.next_out = (target.baseAddress! + produced).assumingMemoryBound(to: CChar.self)
          stream.avail_out = UInt32(target.count - produced)
          let status = BZ2_bzDecompress(&stream)
          produced = target.count - Int(stream.avail_out)
          return status
        }
        if status != BZ_OK { return status }
        // No input left and no room used: the piece is cut short.
        if stream.avail_in == 0 && produced < output.count { return BZ_UNEXPECTED_EOF }
      }
    }
    guard status == BZ_STREAM_END, stream.avail_in == 0 else { return nil }
    output.removeLast(output.count - produced)
    return output
  }
}

/// Big-endian bit access for the bzip2 scan; the callers keep indices in range (`bits` reads
/// zeros past the end).
extension ByteView {
  /// `count` (at most 56) bits starting at bit `bit`, most significant first.
  @inline(__always)
  func bits(at bit: Int, count width: Int) -> UInt64 {
    let first = bit / 8
    var window: UInt64 = 0
    if first + 8 <= count {
      window = UInt64(bigEndian: UnsafeRawPointer(base + first).loadUnaligned(as: UInt64.self))
    } else {
      for index in 0..<8 {
        window = window << 8 | (first + index < count ? UInt64(base[first + index]) : 0)
      }
    }
    return (window << UInt64(bit % 8)) >> UInt64(64 - width)
  }
}

/// Bytes decoded so far by the block-parallel decoder, shared by its threads (a class: a bare
/// `Atomic` cannot be captured by the escaping-looking closure of `parallelMap`).
private final class DecodeProgress: Sendable {
  let bytes = Atomic<Int>(0)
  let overLimit = Atomic<Bool>(false)
}

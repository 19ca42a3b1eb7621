import CBZ2
import CZLib
import Glibc
import GlimpseCore

// With BZip2Blocks.swift, the only files of GlimpseData that talk to zlib and bzip2. Whole
// files are inflated in memory: the tables Glimpse reads are megabytes, and one contiguous
// buffer lets the CSV parser split the work across cores. bzip2 files of several blocks are
// decoded on all cores (BZip2Blocks.swift), falling back to the sequential decoder here.

/// The compression a file's first bytes announce.
public enum Compression: Sendable, Equatable {
  /// Plain bytes.
  case none
  /// gzip (RFC 1952), as `.gz`.
  case gzip
  /// bzip2, as `.bz2`.
  case bzip2

  /// Detects gzip (`1f 8b`) and bzip2 (`BZh` + block size digit) by signature, not by name.
  public init(signatureOf bytes: [UInt8]) {
    if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
      self = .gzip
    } else if bytes.count >= 4 && bytes[0] == 0x42 && bytes[1] == 0x5A && bytes[2] == 0x68
      && (0x31...0x39).contains(bytes[3])
    {
      self = .bzip2
    } else {
      self = .none
    }
  }
}

/// Reads whole files, inflating gzip and bzip2 transparently, within `ReadLimits`: a file larger
/// than `maxFileBytes`, stored or decompressed, is refused as soon as the limit is passed, and so
/// is a decompressed line longer than `maxLineLength` (a bomb of zeros has no line breaks, so it
/// is stopped after 16 MB however large it claims to be).
public enum FileBytes {
  /// The bytes of the file at `path`, decompressed when its signature says gzip or bzip2.
  /// - Throws: `DataError.fileNotFound`, `.unreadableFile`, `.corruptCompressedFile`,
  ///   `.tooLarge`, `.lineTooLong`.
  public static func read(_ path: String, limits: ReadLimits = ReadLimits()) throws -> [UInt8] {
    let raw = try readRaw(path, maxBytes: limits.maxFileBytes)
    switch Compression(signatureOf: raw) {
    case .none: return raw
    case .gzip: return try gunzip(raw, path: path, limits: limits)
    case .bzip2:
      if raw.count >= BZip2Blocks.minimumParallelSize, Parallelism.threadCount > 1 {
        switch BZip2Blocks.decompress(raw, maxBytes: limits.maxFileBytes) {
        case .decoded(let bytes):
          var lines = LineLengthCheck(path: path, limit: limits.maxLineLength)
          try bytes.withUnsafeBufferPointer { try lines.check($0) }
          return bytes
        case .tooLarge:
          throw tooLarge(path: path, limits: limits)
        case .unmapped:
          break
        }
      }
      return try bunzip2(raw, path: path, limits: limits)
    }
  }

  /// The error for a file that decompresses past `maxFileBytes`.
  static func tooLarge(path: String, limits: ReadLimits) -> DataError {
    .tooLarge(
      path: path,
      reason: "decompresses to more than \(byteCount(limits.maxFileBytes)), the limit for a "
        + "\(byteCount(limits.memoryBudget)) memory budget (--max-memory)")
  }

  /// The file's bytes as stored; a file over `maxBytes` (by its size, or by what a pipe or a
  /// device yields) is refused before it is read.
  /// - Throws: `DataError.fileNotFound`, `.unreadableFile`, `.tooLarge`.
  public static func readRaw(_ path: String, maxBytes: Int = ReadLimits().maxFileBytes) throws
    -> [UInt8]
  {
    guard let file = fopen(path, "rb") else {
      let code = errno
      if code == ENOENT { throw DataError.fileNotFound(path: path) }
      throw DataError.unreadableFile(path: path, reason: String(cString: strerror(code)))
    }
    defer { fclose(file) }
    var info = stat()
    if fstat(fileno(file), &info) == 0 {
      if (info.st_mode & S_IFMT) == S_IFDIR {
        throw DataError.unreadableFile(path: path, reason: String(cString: strerror(EISDIR)))
      }
      if Int(info.st_size) > maxBytes {
        throw DataError.tooLarge(
          path: path,
          reason: "the file holds \(byteCount(Int(info.st_size))), over the limit of "
            + "\(byteCount(maxBytes)) (a fifth of the memory budget, --max-memory)")
      }
    }
    var bytes = [UInt8]()
    if (info.st_mode & S_IFMT) == S_IFREG { bytes.reserveCapacity(Int(info.st_size)) }
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
      if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
      if bytes.count > maxBytes {
        throw DataError.tooLarge(
          path: path, reason: "the file holds more than \(byteCount(maxBytes)) (--max-memory)")
      }
      if count < chunk.count {
        if ferror(file) != 0 {
          throw DataError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        break
      }
    }
    return bytes
  }

  /// Compresses bytes as one gzip member (for `.gz` outputs).
  public static func gzip(_ input: [UInt8], level: Int = 6) -> [UInt8] {
    var stream = z_stream()
    // 15 window bits + 16: write a gzip header; 8 is zlib's default memory level.
    let started = deflateInit2_(
      &stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
      Int32(MemoryLayout<z_stream>.size))
    precondition(started == Z_OK, "deflateInit2 failed (\(started))")
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
    let status = input.withUnsafeBufferPointer { source in
      output.withUnsafeMutableBufferPointer { target -> Int32 in
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
        stream.avail_in = UInt32(source.count)
        stream.next_out = target.baseAddress
        stream.avail_out = UInt32(target.count)
        return deflate(&stream, Z_FINISH)
      }
    }
    precondition(status == Z_STREAM_END, "deflate did not finish (\(status))")
    return Array(output[0..<Int(stream.total_out)])
  }

  /// Compresses bytes as one bzip2 stream (`level` 1–9: blocks of level × 100 kB).
  public static func bzip2(_ input: [UInt8], level: Int = 9) -> [UInt8] {
    // bzip2's documented bound: 1% + 600 bytes over the input.
    var output = [UInt8](repeating: 0, count: input.count + input.count / 100 + 601)
    var length = UInt32(output.count)
    // libbz2 rejects a null source, which an empty array may give.
    var source = input.isEmpty ? [0] : input
    let sourceCount = UInt32(input.count)
    let status = source.withUnsafeMutableBytes { source in
      output.withUnsafeMutableBytes { target in
        BZ2_bzBuffToBuffCompress(
          target.baseAddress?.assumingMemoryBound(to: CChar.self), &length,
          source.baseAddress?.assumingMemoryBound(to: CChar.self), sourceCount,
          Int32(level), 0, 0)
      }
    }
    precondition(status == BZ_OK, "bzip2 compression failed (\(status))")
    return Array(output[0..<Int(length)])
  }

  /// Inflates one or more concatenated gzip members.
  static func gunzip(
    _ input: [UInt8], path: String, limits: ReadLimits = ReadLimits()
  ) throws -> [UInt8] {
    var output = [UInt8]()
    output.reserveCapacity(min(input.count * 4, limits.maxFileBytes))
    var lines = LineLengthCheck(path: path, limit: limits.maxLineLength)
    var stream = z_stream()
    // 15 window bits + 16: expect a gzip header.
    guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else { throw DataError.corruptCompressedFile(path: path, reason: "zlib failed to start") }
    defer { inflateEnd(&stream) }
    var chunk = [UInt8](repeating: 0, count: 1 << 18)
    var consumed = 0
    try input.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress else { return }
      stream.next_in = UnsafeMutablePointer(mutating: base)
      stream.avail_in = UInt32(source.count)
      while true {
        let status = chunk.withUnsafeMutableBufferPointer { target -> Int32 in
          stream.next_out = target.baseAddress
          stream.avail_out = UInt32(target.count)
          return inflate(&stream, Z_NO_FLUSH)
        }
        let produced = chunk.count - Int(stream.avail_out)
        // Checked before appending: a bomb is stopped at the limit, not one chunk later.
        guard output.count + produced <= limits.maxFileBytes else {
          throw tooLarge(path: path, limits: limits)
        }
        try chunk.withUnsafeBufferPointer {
          try lines.check(UnsafeBufferPointer(rebasing: $0[0..<produced]))
        }
        output.append(contentsOf: chunk[0..<produced])
        consumed = source.count - Int(stream.avail_in)
        if status == Z_STREAM_END {
          // Another gzip member may follow (`cat a.gz b.gz`); trailing zero padding is allowed.
          let rest = source[consumed...]
          if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) { return }
          guard inflateReset(&stream) == Z_OK else {
            throw DataError.corruptCompressedFile(path: path, reason: "cannot restart inflate")
          }
          continue
        }
        if status == Z_OK || (status == Z_BUF_ERROR && stream.avail_in > 0) { continue }
        if status == Z_BUF_ERROR {
          throw DataError.corruptCompressedFile(
            path: path, reason: "gzip stream ends early (truncated file)")
        }
        let reason = stream.msg.map { String(cString: $0) } ?? "inflate error \(status)"
        throw DataError.corruptCompressedFile(path: path, reason: reason)
      }
    }
    return output
  }

  /// Decompresses one or more concatenated bzip2 streams.
  static func bunzip2(
    _ input: [UInt8], path: String, limits: ReadLimits = ReadLimits()
  ) throws -> [UInt8] {
    var output = [UInt8]()
    output.reserveCapacity(min(input.count * 8, limits.maxFileBytes))
    var lines = LineLengthCheck(path: path, limit: limits.maxLineLength)
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    try input.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress else { return }
      var offset = 0
      while offset < source.count {
        var stream = bz_stream()
        guard BZ2_bzDecompressInit(&stream, 0, 0) == BZ_OK else {
          throw DataError.corruptCompressedFile(path: path, reason: "bzip2 failed to start")
        }
        defer { BZ2_bzDecompressEnd(&stream) }
        stream.next_in = UnsafeMutableRawPointer(mutating: base + offset)
          .assumingMemoryBound(to: CChar.self)
        stream.avail_in = UInt32(source.count - offset)
        var status: Int32 = BZ_OK
        repeat {
          status = chunk.withUnsafeMutableBytes { target -> Int32 in
            stream.next_out = target.baseAddress?.assumingMemoryBound(to: CChar.self)
            stream.avail_out = UInt32(target.count)
            return BZ2_bzDecompress(&stream)
          }
          let produced = chunk.count - Int(stream.avail_out)
          guard output.count + produced <= limits.maxFileBytes else {
            throw tooLarge(path: path, limits: limits)
          }
          try chunk.withUnsafeBufferPointer {
            try lines.check(UnsafeBufferPointer(rebasing: $0[0..<produced]))
          }
          output.append(contentsOf: chunk[0..<produced])
          if status == BZ_OK && stream.avail_in == 0 && produced == 0 {
            throw DataError.corruptCompressedFile(
              path: path, reason: "bzip2 stream ends early (truncated file)")
          }
        } while status == BZ_OK
        guard status == BZ_STREAM_END else {
          throw DataError.corruptCompressedFile(
            path: path, reason: "bzip2 data error (code \(status))")
        }
        offset = source.count - Int(stream.avail_in)
        // Trailing bytes that do not start another stream are ignored, as bzip2(1) warns and does.
        if Compression(signatureOf: Array(source[offset..<min(offset + 4, source.count)])) != .bzip2
        {
          break
        }
      }
    }
    return output
  }
}

/// Follows line lengths across the chunks of a decompressing stream, so that a stream with no
/// line break (a bomb of zeros, a binary file) is refused after `limit` bytes.
struct LineLengthCheck {
  let path: String
  let limit: Int
  /// Bytes since the last line break.
  var current = 0
  /// The 1-based line being read.
  var line = 1

  /// Adds a chunk; throws `DataError.lineTooLong` once a line passes the limit.
  mutating func check(_ chunk: UnsafeBufferPointer<UInt8>) throws {
    guard let base = chunk.baseAddress else { return }
    var start = 0
    while start < chunk.count {
      guard let found = memchr(base + start, 0x0A, chunk.count - start) else {
        current += chunk.count - start
        break
      }
      let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
      current += end - start
      if current > limit { break }
      current = 0
      line += 1
      start = end + 1
    }
    if current > limit { throw DataError.lineTooLong(path: path, line: line, limit: limit) }
  }
}

/// A byte count for messages: `858.99 MB`, `4 GiB` when a whole number of GiB.
func byteCount(_ bytes: Int) -> String {
  if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
  if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
  if bytes >= 1_000_000 {
    let tenths = bytes / 100_000
    return "\(tenths / 10).\(tenths % 10) MB (\(bytes) bytes)"
  }
  return "\(bytes) bytes"
}

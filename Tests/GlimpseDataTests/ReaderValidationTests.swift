import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

// Regression tests for issue #15 ("No crash on any input"): every reader checks sizes and
// counts against the bytes present and against limits before it allocates, and says what is
// wrong in one line naming the file.

/// zlib's CRC-32 (for re-sealing PNG chunks after patching them).
func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
  }
  return ~crc
}

/// A valid PNG whose IHDR claims `width × height` (the pixel data stays that of a tiny image).
func pngClaiming(width: UInt32, height: UInt32) throws -> [UInt8] {
  var png = try PNGCodec.encode(byteImage(height: 4, width: 4, channels: 1, seed: 1))
  // Signature (8), IHDR length (4), "IHDR" (4), then width and height, then 5 bytes, then CRC.
  for (offset, value) in [(16, width), (20, height)] {
    for index in 0..<4 {
      png[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(index)))
    }
  }
  let crc = crc32(png[12..<29])
  for index in 0..<4 {
    png[29 + index] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(index)))
  }
  return png
}

/// A JPEG whose SOF marker claims `width × height` (the scan data stays that of a tiny image).
func jpegClaiming(width: UInt16, height: UInt16) throws -> [UInt8] {
  var jpeg = try JPEGCodec.encode(byteImage(height: 16, width: 16, channels: 1, seed: 2))
  var index = 2
  while index + 9 < jpeg.count {
    let marker = jpeg[index + 1]
    let length = Int(jpeg[index + 2]) << 8 | Int(jpeg[index + 3])
    if marker == 0xC0 || marker == 0xC2 {
      jpeg[index + 5] = UInt8(height >> 8)
      jpeg[index + 6] = UInt8(height & 0xFF)
      jpeg[index + 7] = UInt8(width >> 8)
      jpeg[index + 8] = UInt8(width & 0xFF)
      return jpeg
    }
    index += 2 + length
  }
  Issue.record("no SOF marker")
  return jpeg
}

/// An IDX file: type byte, dimensions as written (any 32-bit values), then `data`.
func idx(type: UInt8 = 0x08, dimensions: [UInt32], data: [UInt8]) -> [UInt8] {
  var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
  for dimension in dimensions {
    bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) }
  }
  return bytes + data
}

func isMalformedIDX(_ error: any Error) -> Bool {
  if case .malformedIDX? = error as? DataError { return true }
  return false
}

func isTooLarge(_ error: any Error) -> Bool {
  if case .tooLarge? = error as? DataError { return true }
  return false
}

@Suite("Readers validate before they trust (issue #15)")
struct ReaderValidationTests {
  // MARK: Labels

  @Test("labels equal as numbers are one class: 0 = 00 and 3 = 3.0 (was a duplicate-key trap)")
  func numericLabelsAreOneRule() throws {
    let d = makeTemporaryDirectory()
    try writeFile("a,label\n1,0\n2,00\n3,3\n4,3.0\n5,10\n6,+0\n", to: d + "/t.csv")
    let data = try TableDatasetReader.read(d + "/t.csv")
    #expect(data.classNames == ["0", "3", "10"])
    #expect(data.labels == [0, 0, 1, 1, 2, 0])
    // Not every label a number: compared as text, verbatim.
    try writeFile("a,label\n1,0\n2,00\n3,cat\n", to: d + "/m.csv")
    let mixed = try TableDatasetReader.read(d + "/m.csv")
    #expect(mixed.classNames == ["0", "00", "cat"])
    // Separate label table with the same trap.
    try writeFile(",a\n0,1\n1,2\n", to: d + "/f.csv")
    try writeFile(",label\n0,7\n1,007\n", to: d + "/l.csv")
    var options = ReadOptions()
    options.labelsPath = d + "/l.csv"
    options.minimumClassCount = 1
    options.requireLabels = false
    #expect(try TableDatasetReader.read(d + "/f.csv", options: options).classNames == ["7"])
  }

  @Test("a single-class label table names the label file, not the feature table")
  func singleClassNamesLabelFile() throws {
    let d = makeTemporaryDirectory()
    try writeFile(",a\n0,1\n1,2\n", to: d + "/f.csv")
    try writeFile(",label\n0,5\n1,05\n", to: d + "/l.csv")
    var options = ReadOptions()
    options.labelsPath = d + "/l.csv"
    #expect(throws: DataError.singleClass(path: d + "/l.csv", className: "5")) {
      try TableDatasetReader.read(d + "/f.csv", options: options)
    }
  }

  // MARK: IDX

  @Test(
    "IDX with corrupted dimension fields is malformed, not a trap (overflow, zero, too few bytes)")
  func idxDimensions() throws {
    let cases: [[UInt8]] = [
      idx(dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: [1, 2, 3]),
      idx(dimensions: [0x8000_0000, 0x8000_0000, 2], data: []),
      idx(type: 0x0E, dimensions: [0x4000_0000, 0x4000_0000], data: [0]),
      idx(dimensions: [3, 0, 28], data: []),
      idx(dimensions: [2, 2, 2], data: [1, 2, 3]),
    ]
    for bytes in cases {
      #expect(performing: { try IDXReader.parse(bytes, path: "x.idx") }, throws: isMalformedIDX)
    }
    // Four dimensions whose last is not a channel count.
    let sevenChannels = idx(dimensions: [1, 1, 1, 7], data: [1, 2, 3, 4, 5, 6, 7])
    var options = ReadOptions()
    options.requireLabels = false
    #expect(
      performing: { try IDXReader.read("x.idx", bytes: sevenChannels, options: options) },
      throws: isMalformedIDX)
  }

  @Test(
    "IDX values beyond the memory budget are refused before allocating; NaN float labels are errors"
  )
  func idxBudgetAndFloats() throws {
    var limits = ReadLimits()
    limits.memoryBudget = 8 * 10
    let bytes = idx(dimensions: [4, 2, 2], data: [UInt8](repeating: 1, count: 16))
    #expect(
      performing: { try IDXReader.parse(bytes, path: "x.idx", limits: limits) }, throws: isTooLarge)
    let nan = idx(type: 0x0D, dimensions: [1], data: [0x7F, 0xC0, 0, 0])
    #expect(performing: { try IDXReader.parse(nan, path: "l.idx") }, throws: isMalformedIDX)
  }

  // MARK: CSV

  @Test(
    "a wide header over a body of blank lines allocates by the bytes present, not lines × columns")
  func rowBoundFromBytes() throws {
    // 200 000 columns × 2 000 000 blank lines would have claimed 3.2 TB of doubles.
    let header = (0..<200_000).map { "c\($0)" }.joined(separator: ",") + "\n"
    let bytes = Array(header.utf8) + [UInt8](repeating: 0x0A, count: 2_000_000)
    let table = try CSVReader.parse(bytes, path: "wide.csv")
    #expect(table.rowCount == 0)
  }

  @Test("a header over the column limit is refused, with the count and the limit")
  func columnLimit() throws {
    var limits = ReadLimits()
    limits.maxColumns = 1000
    let header = (0..<5000).map { "c\($0)" }.joined(separator: ",") + "\n1\n"
    #expect(throws: DataError.tooManyColumns(path: "w.csv", columns: 5000, limit: 1000)) {
      try CSVReader.parse(Array(header.utf8), path: "w.csv", limits: limits)
    }
    #expect(CSVReader.header(of: Array(header.utf8), maxColumns: 1000).isEmpty)
  }

  @Test("a bad cell is quoted escaped, cut to about 60 characters, on one line")
  func cellEscaped() throws {
    let cell: [UInt8] =
      Array("\"ab\ncd".utf8) + [0, 0xFF, 0x1B] + Array(String(repeating: "x", count: 200).utf8) + [
        0x22
      ]
    let bytes = Array("a,b\n1,".utf8) + cell + [0x0A]
    do {
      _ = try CSVReader.parse(bytes, path: "bin.csv")
      Issue.record("no error")
    } catch let error as DataError {
      let text = error.description
      #expect(!text.contains("\n") && !text.contains("\u{0}") && !text.contains("\u{1B}"))
      #expect(text.contains("ab\\ncd\\x00\\xFF\\x1B"))
      #expect(text.count < 160)
      #expect(text.hasPrefix("bin.csv:2:2: column 'b'"))
    }
    // Header names and class names are escaped too.
    #expect(
      DataError.singleClass(path: "p", className: "a\nb").description
        == "p: every row has class 'a\\nb'; a classifier needs at least two classes")
    #expect(quoted(String(repeating: "y", count: 100)).count == 61)
  }

  // MARK: Compression

  @Test(
    "a gzip bomb of zeros stops at the line-length limit, a gzip of many lines at the size limit")
  func gzipBombs() throws {
    var limits = ReadLimits()
    limits.maxLineLength = 1 << 16
    let zeros = FileBytes.gzip([UInt8](repeating: 0, count: 1 << 22), level: 9)
    #expect(throws: DataError.lineTooLong(path: "z.gz", line: 1, limit: 1 << 16)) {
      try FileBytes.gunzip(zeros, path: "z.gz", limits: limits)
    }
    limits = ReadLimits()
    limits.memoryBudget = 5 << 20  // 1 MiB of text
    let lines = FileBytes.gzip(Array(String(repeating: "0,0,0,0\n", count: 1 << 18).utf8), level: 9)
    #expect(
      performing: { try FileBytes.gunzip(lines, path: "l.gz", limits: limits) }, throws: isTooLarge)
    let d = makeTemporaryDirectory()
    try writeFile(lines, to: d + "/l.csv.gz")
    do {
      _ = try FileBytes.read(d + "/l.csv.gz", limits: limits)
      Issue.record("no error")
    } catch let error as DataError {
      #expect(
        error.description.hasPrefix(d + "/l.csv.gz: too large: decompresses to more than 1 MiB"))
    }
  }

  @Test("a bzip2 bomb is refused at the limit, sequential and block-parallel")
  func bzip2Bombs() throws {
    var limits = ReadLimits()
    limits.maxLineLength = 1 << 16
    let zeros = FileBytes.bzip2([UInt8](repeating: 0, count: 1 << 22))
    #expect(throws: DataError.lineTooLong(path: "z.bz2", line: 1, limit: 1 << 16)) {
      try FileBytes.bunzip2(zeros, path: "z.bz2", limits: limits)
    }
    limits = ReadLimits()
    limits.memoryBudget = 5 << 20
    let lines = FileBytes.bzip2(Array(String(repeating: "1,2,3\n", count: 1 << 19).utf8))
    #expect(
      performing: { try FileBytes.bunzip2(lines, path: "l.bz2", limits: limits) },
      throws: isTooLarge)
    // The parallel decoder stops after the batch that passes the limit.
    let packed = BZip2BlocksTests.generatedPacked
    guard case .tooLarge = BZip2Blocks.decompress(packed, maxBytes: 500_000) else {
      Issue.record("parallel decoder went past the limit")
      return
    }
    #expect(BZip2Blocks.decompress(packed).bytes == BZip2BlocksTests.generated)
  }

  @Test("a plain file over the size limit is refused by its size, before reading")
  func rawSizeLimit() throws {
    let d = makeTemporaryDirectory()
    try writeFile([UInt8](repeating: 0x31, count: 1000), to: d + "/big.csv")
    #expect(
      performing: { try FileBytes.readRaw(d + "/big.csv", maxBytes: 999) }, throws: isTooLarge)
    #expect(try FileBytes.readRaw(d + "/big.csv", maxBytes: 1000).count == 1000)
  }

  // MARK: Scaling

  func scaled(_ text: String, _ mode: ScaleMode = .auto) throws -> DatasetReading {
    let d = makeTemporaryDirectory()
    try writeFile(text, to: d + "/t.csv")
    var options = ReadOptions()
    options.scale = mode
    return try DatasetReader.read(d + "/t.csv", options: options)
  }

  @Test(
    "auto scaling: 0-255 by 255, 0-16 (scikit-learn digits) by the maximum, out-of-range kept with a reason"
  )
  func autoScaling() throws {
    let bytes = try scaled("a,b,c,d,label\n0,255,3,4,x\n1,2,3,4,y\n")
    #expect(bytes.scaling?.divisor == 255)
    #expect(bytes.dataset.features.storage[1] == 1)
    let digits = try scaled("a,b,c,d,label\n0,16,3,4,x\n1,2,8,4,y\n")
    #expect(digits.scaling?.divisor == 16)
    #expect(digits.dataset.features.storage[1] == 1)
    #expect(digits.scaling?.description.contains("maximum") == true)
    let outside = try scaled("a,b,c,d,label\n-5,300,3,4,x\n1,2,3,4,y\n")
    #expect(outside.scaling?.divisor == nil)
    #expect(outside.scaling?.reason.contains("-5…300") == true)
    #expect(outside.dataset.features.storage[1] == 300)
    let notImages = try scaled("a,b,label\n0,255,x\n1,2,y\n")
    #expect(notImages.scaling == nil)
    #expect(notImages.dataset.features.storage[1] == 255)
  }

  @Test("explicit scaling: 255, max (largest absolute value), none; raw is none")
  func explicitScaling() throws {
    let table = "a,b,c,d,label\n-5,300,3,4,x\n1,2,3,4,y\n"
    #expect(try scaled(table, .by255).dataset.features.storage[1] == 300.0 / 255)
    #expect(try scaled(table, .max).dataset.features.storage[1] == 1)
    #expect(try scaled(table, .none).dataset.features.storage[1] == 300)
    var options = ReadOptions()
    options.raw = true
    #expect(options.scale == .none)
    options.raw = false
    #expect(options.scale == .auto)
  }

  // MARK: Images

  @Test("a PNG header over --max-pixels is refused with the claimed size, before inflating")
  func pngPixelLimit() throws {
    let png = try pngClaiming(width: 100_000, height: 100_000)
    #expect(
      throws: CodecError(
        "header claims 100000×100000 = 10000000000 pixels, over the limit of 100000000 (--max-pixels)"
      )
    ) {
      try ImageFileFormat.decode(png)
    }
    let small = try PNGCodec.encode(byteImage(height: 10, width: 10, channels: 3, seed: 3))
    #expect(throws: CodecError.self) { try PNGCodec.decode(small, maxPixels: 99) }
    #expect(try PNGCodec.decode(small, maxPixels: 100).width == 10)
  }

  @Test(
    "a JPEG header over --max-pixels is refused; one claiming more than its data is an error, not grey"
  )
  func jpegPixelLimitAndTruncation() throws {
    let huge = try jpegClaiming(width: 30000, height: 30000)
    let started = Date()
    #expect(
      throws: CodecError(
        "header claims 30000×30000 = 900000000 pixels, over the limit of 100000000 (--max-pixels)")
    ) {
      try ImageFileFormat.decode(huge)
    }
    // Under the limit but with far too little data: refused at the first missing byte.
    let starved = try jpegClaiming(width: 4000, height: 4000)
    #expect(throws: CodecError.self) { try JPEGCodec.decode(starved) }
    #expect(Date().timeIntervalSince(started) < 5)
  }

  @Test("corrupt JPEG data (extraneous bytes before a marker) is an error, not a warning")
  func jpegCorruptData() throws {
    var jpeg = try JPEGCodec.encode(byteImage(height: 16, width: 16, channels: 3, seed: 4))
    // Junk before the SOF marker: libjpeg warns "extraneous bytes" and skips it.
    let sof = try #require((2..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
    jpeg.insert(contentsOf: [0x12, 0x34, 0x56], at: sof)
    do {
      _ = try JPEGCodec.decode(jpeg)
      Issue.record("corrupt data accepted")
    } catch {
      #expect(error.reason.contains("Corrupt JPEG data"))
    }
  }

  @Test("a lone image file is decoded as an image (not parsed as CSV): its header limit applies")
  func loneImageFile() throws {
    let d = makeTemporaryDirectory()
    try writeFile(try pngClaiming(width: 100_000, height: 100_000), to: d + "/bomb.png")
    do {
      _ = try DatasetReader.read(d + "/bomb.png")
      Issue.record("no error")
    } catch let error as DataError {
      #expect(
        error.description.hasPrefix(d + "/bomb.png: unreadable image: header claims 100000×100000"))
    }
    try writeFile(
      PNGCodec.encode(byteImage(height: 5, width: 6, channels: 4, seed: 5)), to: d + "/one.png")
    #expect(throws: DataError.singleImage(path: d + "/one.png")) {
      try DatasetReader.read(d + "/one.png")
    }
    var options = ReadOptions()
    options.requireLabels = false
    let one = try DatasetReader.read(d + "/one.png", options: options).dataset
    #expect(one.count == 1 && one.imageShape == ImageShape(height: 5, width: 6, channels: 3))
  }

  // MARK: Folders

  func imageFolder() throws -> String {
    let d = makeTemporaryDirectory()
    for (index, name) in ["a/1.png", "a/2.png", "b/3.png", "b/sub/4.png"].enumerated() {
      try writeFile(
        PNGCodec.encode(byteImage(height: 5, width: 5, channels: 1, seed: UInt64(index))),
        to: d + "/" + name)
    }
    return d
  }

  @Test("folder walks enter a symbolic-link loop once; two loops into each other do not explode")
  func walkerCycles() throws {
    let d = try imageFolder()
    let manager = FileManager.default
    try manager.createSymbolicLink(atPath: d + "/a/loop", withDestinationPath: "..")
    try manager.createSymbolicLink(atPath: d + "/b/sub/x", withDestinationPath: "../../a")
    try manager.createSymbolicLink(atPath: d + "/a/y", withDestinationPath: "../b")
    let walk = ImageFileWalker.imageFiles(under: d)
    #expect(walk.files.count == 4)
    #expect(
      Set(walk.files.map { URL(fileURLWithPath: $0).lastPathComponent }) == [
        "1.png", "2.png", "3.png", "4.png",
      ])
    #expect(walk.skipped.isEmpty)
    // The same walk over one class: its loop back to the root is followed once too.
    #expect(ImageFileWalker.imageFiles(under: d + "/a").files.count == 4)
  }

  @Test("dangling links and non-regular files named .png are skipped and listed, not fatal")
  func walkerSkips() throws {
    let d = try imageFolder()
    try FileManager.default.createSymbolicLink(
      atPath: d + "/a/gone.png", withDestinationPath: d + "/nowhere.png")
    #expect(mkfifo(d + "/b/pipe.png", 0o644) == 0)
    let walk = ImageFileWalker.imageFiles(under: d)
    #expect(walk.files.count == 4)
    #expect(
      walk.skipped == [
        SkippedFile(path: d + "/a/gone.png", reason: "dangling symbolic link"),
        SkippedFile(path: d + "/b/pipe.png", reason: "not a regular file"),
      ])
    // The folder reader walks with it: four images (b/sub counts as class b), two skipped.
    let reading = try ImageFolderReader.read(d)
    #expect(reading.dataset.count == 4)
    #expect(reading.dataset.classCounts == [2, 2])
    #expect(reading.skipped.map(\.path) == [d + "/a/gone.png", d + "/b/pipe.png"])
  }

  @Test("unreadable files are skipped and listed (when not running as root)")
  func walkerUnreadable() throws {
    guard getuid() != 0 else { return }  // root reads everything
    let d = try imageFolder()
    #expect(chmod(d + "/a/1.png", 0) == 0)
    let walk = ImageFileWalker.imageFiles(under: d)
    #expect(walk.skipped.map(\.path) == [d + "/a/1.png"])
  }

  @Test("a folder over the memory budget is refused; --size over --max-pixels is refused")
  func folderBudget() throws {
    // Flat grey 40×40 images: 1600 bytes of 8-bit codes each, small files (the budget also
    // caps a file's size at a fifth of it).
    let flat = makeTemporaryDirectory()
    for name in ["a/1.png", "a/2.png", "b/3.png", "b/4.png"] {
      try writeFile(
        PNGCodec.encode(Image(shape: ImageShape(height: 40, width: 40), repeating: 0.5)),
        to: flat + "/" + name)
    }
    var options = ReadOptions()
    options.limits.memoryBudget = 1600 * 2  // room for two of them
    #expect(performing: { try ImageFolderReader.read(flat, options: options) }, throws: isTooLarge)
    options.limits.memoryBudget = 1600 * 4
    #expect(try ImageFolderReader.read(flat, options: options).dataset.count == 4)
    let d = try imageFolder()
    options = ReadOptions()
    options.size = (100_000, 100_000)
    #expect(performing: { try ImageFolderReader.read(d, options: options) }, throws: isTooLarge)
  }
}

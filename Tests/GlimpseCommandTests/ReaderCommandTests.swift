import Foundation
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// A valid PNG whose IHDR claims `width × height` (its data is that of a 4×4 image).
private func pngClaiming(width: UInt32, height: UInt32) throws -> [UInt8] {
  var png = try PNGCodec.encode(byteImage(height: 4, width: 4, channels: 1, seed: 1))
  func put(_ value: UInt32, at offset: Int) {
    for index in 0..<4 {
      png[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(index)))
    }
  }
  put(width, at: 16)
  put(height, at: 20)
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in png[12..<29] {
    crc ^= UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
  }
  put(~crc, at: 29)
  return png
}

/// Issue #15 at the command line: bad or hostile inputs give one line and exit 65, limits are
/// options, and folder walks survive loops and dangling links.
@Suite("Command line: reader validation")
struct ReaderCommandTests {
  @Test("a PNG header bomb and a binary CSV cell are one line each, naming the file, exit 65")
  func hostileFiles() throws {
    let d = makeTemporaryDirectory()
    try writeFile(try pngClaiming(width: 100_000, height: 100_000), to: d + "/bomb.png")
    let bomb = run(["info", d + "/bomb.png"])
    #expect(bomb.status == ExitStatus.badInput)
    #expect(
      bomb.errors == [
        "glimpse: error: \(d)/bomb.png: unreadable image: header claims 100000×100000 = 10000000000 "
          + "pixels, over the limit of 100000000 (--max-pixels)"
      ])
    try writeFile(
      Array("a,b,label\n1,".utf8) + [0, 0xC3, 0x28, 0x0A] + Array("2,3,x\n".utf8),
      to: d + "/bin.csv")
    let binary = run(["info", d + "/bin.csv"])
    #expect(binary.status == ExitStatus.badInput)
    #expect(binary.errors == ["glimpse: error: \(d)/bin.csv:2: row has 2 fields, the header has 3"])
    try writeFile(
      Array("a,b,label\n1,".utf8) + [0, 0xC3, 0x28] + Array(",x\n2,3,y\n".utf8), to: d + "/cell.csv"
    )
    #expect(
      run(["info", d + "/cell.csv"]).errors == [
        "glimpse: error: \(d)/cell.csv:2:2: column 'b': expected a number, found \"\\x00\\xC3(\""
      ])
  }

  @Test("--max-pixels and --max-memory are options; a lower limit refuses what the default reads")
  func limitOptions() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      PNGCodec.encode(byteImage(height: 20, width: 20, channels: 1, seed: 1)), to: d + "/f/a/1.png")
    try writeFile(
      PNGCodec.encode(byteImage(height: 20, width: 20, channels: 1, seed: 2)), to: d + "/f/b/2.png")
    #expect(run(["info", d + "/f", "--sheet", d + "/s.png"]).status == 0)
    // Both images over the limit: skipped, so no rows.
    let small = run(["info", d + "/f", "--max-pixels", "100", "--sheet", d + "/s.png"])
    #expect(small.errors.last == "glimpse: error: \(d)/f: no data rows")
    let table = "a,b,c,d,label\n" + String(repeating: "1,2,3,4,x\n5,6,7,8,y\n", count: 2000)
    try writeFile(FileBytes.gzip(Array(table.utf8)), to: d + "/t.csv.gz")
    #expect(run(["info", d + "/t.csv.gz", "--sheet", d + "/s.png"]).status == 0)
    let tight = run(["info", d + "/t.csv.gz", "--max-memory", "100K", "--sheet", d + "/s.png"])
    #expect(tight.status == ExitStatus.badInput)
    #expect(
      tight.errors.last?.hasPrefix(
        "glimpse: error: \(d)/t.csv.gz: too large: decompresses to more than 20480 bytes") == true)
    #expect(run(["info", d + "/t.csv.gz", "--max-memory", "lots"]).status == 64)
  }

  @Test("--scale takes auto|255|max|none; --raw still works and conflicts with another --scale")
  func scaleOptions() throws {
    let d = makeTemporaryDirectory()
    try writeFile("a,b,c,d,label\n0,16,3,4,x\n1,2,8,4,y\n", to: d + "/digits.csv")
    for mode in ["auto", "255", "max", "none"] {
      #expect(
        run(["info", d + "/digits.csv", "--scale", mode, "--sheet", d + "/s.png"]).status == 0,
        "\(mode)")
    }
    #expect(run(["info", d + "/digits.csv", "--raw", "--sheet", d + "/s.png"]).status == 0)
    #expect(run(["info", d + "/digits.csv", "--raw", "--scale", "255"]).status == 64)
    #expect(run(["info", d + "/digits.csv", "--scale", "half"]).status == 64)
    #expect(try ReadingOptions.parse(["--raw"]).readOptions.scale == .none)
    let options = try ReadingOptions.parse([
      "--scale", "max", "--max-pixels", "7", "--max-memory", "2G",
    ]).readOptions
    #expect(options.scale == .max && options.limits.maxPixels == 7)
    #expect(options.limits.memoryBudget == 2 << 30)
  }

  @Test(
    "explain-batch over a folder with two symlink loops and a dangling .png explains each image once and lists the link"
  )
  func batchSurvivesLoopsAndDanglingLinks() throws {
    let d = makeTemporaryDirectory()
    let model = d + "/svm.glimpse"
    #expect(run(["train", TestPaths.samples + "/digits", "--out", model]) == (0, []))
    let folder = d + "/in"
    let manager = FileManager.default
    for (i, name) in ["0/0000.png", "3/1500.png"].enumerated() {
      try manager.createDirectory(atPath: folder + "/\(i)", withIntermediateDirectories: true)
      try manager.copyItem(
        atPath: TestPaths.samples + "/digits/" + name, toPath: folder + "/\(i)/x.png")
    }
    try manager.createSymbolicLink(atPath: folder + "/0/up", withDestinationPath: "..")
    try manager.createSymbolicLink(atPath: folder + "/1/other", withDestinationPath: "../0")
    try manager.createSymbolicLink(
      atPath: folder + "/1/gone.png", withDestinationPath: d + "/nothing.png")
    let outcome = run([
      "explain-batch", model, "--samples", "30", "--segmenter", "grid:4",
      "--folder", folder, "--out", d + "/out",
    ])
    // The dangling link is skipped and listed: a partial batch.
    #expect(outcome.status == ExitStatus.partial)
    let files = try manager.contentsOfDirectory(atPath: d + "/out")
    #expect(files.filter { $0.hasSuffix(".png") }.count == 2)
    let skipped = String(decoding: try FileBytes.readRaw(d + "/out/skipped.txt"), as: UTF8.self)
    #expect(skipped == "\(folder)/1/gone.png: dangling symbolic link\n")
  }
}

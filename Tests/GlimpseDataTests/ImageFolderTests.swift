import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

/// Pillow's BILINEAR resize of float images (Fixtures/scripts/make_fixtures.py).
struct ResizeFixture: Decodable {
  struct Case: Decodable {
    var shape: [Int]
    var target: [Int]
    var input: [Double]
    var output: [Double]
  }
  var cases: [Case]
}

@Suite("Image folders, resizing, writing")
struct ImageFolderTests {
  func writeImage(_ image: Image, _ path: String, format: ImageFileFormat = .png) throws {
    try writeFile(format.encode(image), to: path)
  }

  @Test("antialiased bilinear resizing matches Pillow's float resize")
  func resizeMatchesPillow() throws {
    let fixture = try loadJSON(
      ResizeFixture.self, from: TestPaths.fixtures("GlimpseDataTests") + "/resize.json")
    for item in fixture.cases {
      let image = Image(
        shape: ImageShape(height: item.shape[0], width: item.shape[1]), pixels: item.input)
      let resized = image.resized(height: item.target[0], width: item.target[1])
      // Pillow accumulates in double and stores float32: 1e-6 covers the float rounding.
      #expect(
        maxAbsoluteDifference(resized.pixels, item.output) < 1e-6, "\(item.shape) → \(item.target)")
    }
  }

  @Test("the sample folder reads as 40 grey 28×28 digits identical to their table rows")
  func sampleFolder() throws {
    let reading = try ImageFolderReader.read(TestPaths.samples + "/digits")
    let dataset = reading.dataset
    #expect(reading.skipped.isEmpty)
    #expect(dataset.count == 40)
    #expect(dataset.classNames == (0...9).map(String.init))
    #expect(dataset.classCounts == Array(repeating: 4, count: 10))
    #expect(dataset.imageShape == ImageShape(height: 28, width: 28, channels: 1))
    // File 1500.png of class 3 is row 1500 of the table: PNG is lossless.
    var options = ReadOptions()
    options.labelsPath = TableDatasetReaderTests.labels
    let table = try TableDatasetReader.read(TableDatasetReaderTests.images, options: options)
    let row = try #require(dataset.sources.firstIndex { $0.hasSuffix("/3/1500.png") })
    #expect(dataset.features.row(row).elementsEqual(table.features.row(1500)))
  }

  @Test("bad files are skipped and listed; reading goes on")
  func skipsBadFiles() throws {
    let root = makeTemporaryDirectory()
    try writeImage(byteImage(height: 4, width: 4, channels: 1, seed: 1), root + "/a/1.png")
    try writeImage(byteImage(height: 4, width: 4, channels: 1, seed: 2), root + "/b/2.png")
    try writeImage(
      byteImage(height: 4, width: 4, channels: 1, seed: 3), root + "/b/3.jpg", format: .jpeg)
    try writeFile([1, 2, 3, 4, 5], to: root + "/a/noise.png")
    let good = try PNGCodec.encode(byteImage(height: 4, width: 4, channels: 1, seed: 4))
    try writeFile(Array(good.prefix(good.count - 20)), to: root + "/b/cut.png")
    try writeFile("not an image", to: root + "/b/notes.txt")
    let reading = try ImageFolderReader.read(root)
    #expect(reading.dataset.count == 3)
    #expect(reading.skipped.map(\.path) == [root + "/a/noise.png", root + "/b/cut.png"])
    #expect(reading.skipped[0].reason.contains("not a PNG or JPEG"))
    #expect(reading.skipped[1].reason.contains("truncated"))
  }

  @Test("mixed grey and colour become RGB; --gray forces one channel")
  func channels() throws {
    let root = makeTemporaryDirectory()
    try writeImage(byteImage(height: 3, width: 3, channels: 1, seed: 1), root + "/a/1.png")
    try writeImage(byteImage(height: 3, width: 3, channels: 4, seed: 2), root + "/b/2.png")
    let colour = try ImageFolderReader.read(root).dataset
    #expect(colour.imageShape?.channels == 3)
    var options = ReadOptions()
    options.gray = true
    let grey = try ImageFolderReader.read(root, options: options).dataset
    #expect(grey.imageShape?.channels == 1)
  }

  @Test("mixed sizes are an error naming both files, unless a size is given")
  func sizes() throws {
    let root = makeTemporaryDirectory()
    try writeImage(byteImage(height: 8, width: 8, channels: 1, seed: 1), root + "/a/1.png")
    try writeImage(byteImage(height: 6, width: 9, channels: 1, seed: 2), root + "/b/2.png")
    #expect(
      throws: DataError.inconsistentImageSizes(
        path: root + "/b/2.png", shape: ImageShape(height: 6, width: 9),
        firstPath: root + "/a/1.png", firstShape: ImageShape(height: 8, width: 8))
    ) { try ImageFolderReader.read(root) }
    var options = ReadOptions()
    options.size = (4, 5)
    #expect(
      try ImageFolderReader.read(root, options: options).dataset.imageShape
        == ImageShape(height: 4, width: 5))
  }

  @Test("an empty folder, a flat folder, a single class and a missing folder are errors")
  func folderErrors() throws {
    let empty = makeTemporaryDirectory()
    #expect(throws: DataError.emptyDataset(path: empty)) { try ImageFolderReader.read(empty) }
    let flat = makeTemporaryDirectory()
    try writeImage(byteImage(height: 2, width: 2, channels: 1, seed: 1), flat + "/x.png")
    #expect(throws: DataError.noClassFolders(path: flat)) { try ImageFolderReader.read(flat) }
    let single = makeTemporaryDirectory()
    try writeImage(byteImage(height: 2, width: 2, channels: 1, seed: 1), single + "/only/x.png")
    #expect(throws: DataError.singleClass(path: single, className: "only")) {
      try ImageFolderReader.read(single)
    }
    let onlyBad = makeTemporaryDirectory()
    try writeFile("junk", to: onlyBad + "/a/x.png")
    #expect(throws: DataError.emptyDataset(path: onlyBad)) { try ImageFolderReader.read(onlyBad) }
    #expect(throws: DataError.fileNotFound(path: "/no/such/folder")) {
      try DatasetReader.read("/no/such/folder")
    }
  }

  @Test("exporting a table as a folder and reading it back gives the same rows")
  func exportRoundTrip() throws {
    let table = try TableDatasetReader.read(
      TestPaths.fixtures("GlimpseDataTests") + "/mnist50.csv.gz")
    let root = makeTemporaryDirectory() + "/exported"
    let written = try ImageFolderWriter.write(table, to: root)
    #expect(written.count == 50)
    let back = try ImageFolderReader.read(root).dataset
    // Rows come back grouped by class, in file-name order: the table's rows sorted by class.
    let order = table.labels.indices.sorted { (table.labels[$0], $0) < (table.labels[$1], $1) }
    #expect(back.features == table.subset(order).features)
    #expect(throws: DataError.outputNotEmpty(path: root)) {
      try ImageFolderWriter.write(table, to: root)
    }
    #expect(
      try ImageFolderWriter.write(table, to: root, format: .jpeg, overwrite: true).count == 50)
  }

  @Test("atomic writes replace a file whole and leave no temporary files")
  func atomicWrite() throws {
    let directory = makeTemporaryDirectory()
    let path = directory + "/nested/out.txt"
    try AtomicFile.write("first", to: path)
    try AtomicFile.write("second", to: path)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: directory + "/nested") == ["out.txt"])
    // Writing under a path that is a file fails cleanly and keeps the file.
    #expect(throws: DataError.self) { try AtomicFile.write("x", to: path + "/inside.txt") }
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
  }
}

import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

@Suite("MNIST IDX files")
struct IDXReaderTests {
  /// An IDX file: magic (0, 0, type, dimension count), big-endian dimensions, then data.
  func idx(type: UInt8, dimensions: [Int], data: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for d in dimensions {
      bytes += [
        UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF),
      ]
    }
    return bytes + data
  }

  @Test("images and labels (plain and gzip) read as a scaled image dataset")
  func readsImagesAndLabels() throws {
    let directory = makeTemporaryDirectory()
    let pixels: [UInt8] = [0, 255, 51, 102, 10, 20, 30, 40, 255, 255, 0, 0]
    try writeFile(
      FileBytes.gzip(idx(type: 0x08, dimensions: [3, 2, 2], data: pixels)),
      to: directory + "/images-idx3-ubyte.gz")
    try writeFile(
      idx(type: 0x08, dimensions: [3], data: [7, 1, 7]), to: directory + "/labels-idx1-ubyte")
    var options = ReadOptions()
    options.labelsPath = directory + "/labels-idx1-ubyte"
    let reading = try DatasetReader.read(directory + "/images-idx3-ubyte.gz", options: options)
    let dataset = reading.dataset
    #expect(dataset.imageShape == ImageShape(height: 2, width: 2))
    #expect(dataset.classNames == ["1", "7"])
    #expect(dataset.labels == [1, 0, 1])
    #expect(dataset.features.row(0).elementsEqual([0, 1, 0.2, 0.4]))
    #expect(dataset.sources[2].hasSuffix("#2"))
  }

  @Test("wider types decode big-endian")
  func widerTypes() throws {
    let int16 = try IDXReader.parse(
      idx(type: 0x0B, dimensions: [2], data: [0xFF, 0xFE, 0x01, 0x00]), path: "x")
    #expect(int16.values == [-2, 256])
    let float32 = try IDXReader.parse(
      idx(type: 0x0D, dimensions: [1], data: [0x3F, 0xC0, 0, 0]), path: "x")
    #expect(float32.values == [1.5])
  }

  @Test("a cut-short file and a label count mismatch are errors")
  func malformed() throws {
    #expect(throws: DataError.self) {
      try IDXReader.parse(idx(type: 0x08, dimensions: [2, 2, 2], data: [1, 2, 3]), path: "x")
    }
    let directory = makeTemporaryDirectory()
    try writeFile(
      idx(type: 0x08, dimensions: [2, 2, 2], data: Array(repeating: 9, count: 8)),
      to: directory + "/i")
    try writeFile(idx(type: 0x08, dimensions: [3], data: [1, 2, 3]), to: directory + "/l")
    var options = ReadOptions()
    options.labelsPath = directory + "/l"
    #expect(
      throws: DataError.labelCountMismatch(
        path: directory + "/i", labels: 3, labelsPath: directory + "/l", rows: 2)
    ) {
      try IDXReader.read(directory + "/i", options: options)
    }
  }
}

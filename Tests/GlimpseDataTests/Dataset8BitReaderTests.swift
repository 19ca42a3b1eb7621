import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

/// Readers keep 8-bit images as codes (issue #16, item 3), with the values the `Double` path
/// gives: each file decoded to an image (`x / 255`), converted to the folder's channels,
/// resized when asked.
@Suite("8-bit storage from the readers")
struct Dataset8BitReaderTests {
  /// A folder of 6×5 PNGs and a JPEG: grey, grey + alpha, RGB, RGBA.
  static func folder() throws -> String {
    let d = makeTemporaryDirectory()
    let files: [(String, Int, ImageFileFormat)] = [
      ("a/1.png", 1, .png), ("a/2.png", 2, .png), ("b/3.png", 3, .png), ("b/4.png", 4, .png),
      ("b/5.jpg", 3, .jpeg),
    ]
    for (index, (name, channels, format)) in files.enumerated() {
      let image = byteImage(height: 6, width: 5, channels: channels, seed: UInt64(index))
      try writeFile(format.encode(image), to: d + "/" + name)
    }
    return d
  }

  /// The rows the `Double` path makes of `sources`: decoded, converted, resized.
  static func expected(_ sources: [String], channels: Int, size: (Int, Int)? = nil) throws
    -> [[Double]]
  {
    try sources.map { path in
      var image = try ImageFileFormat.decode(FileBytes.readRaw(path)).converted(
        toChannels: channels)
      if let size { image = image.resized(height: size.0, width: size.1) }
      return image.pixels
    }
  }

  static func rows(_ dataset: Dataset) -> [[UInt64]] {
    (0..<dataset.count).map { dataset.values(ofRow: $0).map(\.bitPattern) }
  }

  @Test(
    "a folder of mixed grey and colour PNG/JPEG files reads as 8-bit RGB rows equal to the decoded images"
  )
  func mixedFolder() throws {
    let dataset = try ImageFolderReader.read(Self.folder()).dataset
    #expect(dataset.pixelCodes != nil)
    #expect(dataset.imageShape == ImageShape(height: 6, width: 5, channels: 3))
    #expect(dataset.count == 5)
    let expected = try Self.expected(dataset.sources, channels: 3)
    #expect(Self.rows(dataset) == expected.map { $0.map(\.bitPattern) })
    #expect(dataset.features.storage == expected.flatMap { $0 })
    // Subsets and images keep the same bits.
    let subset = dataset.subset([4, 1])
    #expect(subset.pixelCodes != nil)
    #expect(subset.image(at: 0)?.pixels == expected[4])
  }

  @Test(
    "colour first, then grey (streamed as decoded) or grey first, then colour (gathered at the end): the same 8-bit rows as the decoded images"
  )
  func streamedAndGathered() throws {
    for order in [[3, 1, 4, 2], [1, 2, 3, 4]] {
      let d = makeTemporaryDirectory()
      for (position, channels) in order.enumerated() {
        let image = byteImage(height: 3, width: 4, channels: channels, seed: UInt64(10 + position))
        try writeFile(PNGCodec.encode(image), to: d + "/c\(position % 2)/\(position).png")
      }
      // Files are taken class by class: c0/0, c0/2, then c1/1, c1/3.
      var options = ReadOptions()
      options.size = (3, 4)  // the images' own size: nothing is resized
      let dataset = try ImageFolderReader.read(d, options: options).dataset
      #expect(dataset.pixelCodes != nil)
      #expect(dataset.imageShape == ImageShape(height: 3, width: 4, channels: 3))
      #expect(dataset.labels == [0, 0, 1, 1])
      #expect(
        Self.rows(dataset)
          == (try Self.expected(dataset.sources, channels: 3)).map { $0.map(\.bitPattern) })
    }
  }

  @Test("a grey folder stays one 8-bit channel; grey + alpha drops the alpha")
  func greyFolder() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      PNGCodec.encode(byteImage(height: 4, width: 4, channels: 1, seed: 1)), to: d + "/x/1.png")
    try writeFile(
      PNGCodec.encode(byteImage(height: 4, width: 4, channels: 2, seed: 2)), to: d + "/y/2.png")
    let dataset = try ImageFolderReader.read(d).dataset
    #expect(dataset.pixelCodes?.columns == 16)
    #expect(
      Self.rows(dataset)
        == (try Self.expected(dataset.sources, channels: 1)).map { $0.map(\.bitPattern) })
  }

  @Test("colour made grey (--gray) or resized (--size) is no longer 8-bit: Double rows, as before")
  func doublesWhenConverted() throws {
    let d = try Self.folder()
    var options = ReadOptions()
    options.gray = true
    let grey = try ImageFolderReader.read(d, options: options).dataset
    #expect(grey.pixelCodes == nil)
    #expect(
      Self.rows(grey) == (try Self.expected(grey.sources, channels: 1)).map { $0.map(\.bitPattern) }
    )
    options = ReadOptions()
    options.size = (3, 4)
    let resized = try ImageFolderReader.read(d, options: options).dataset
    #expect(resized.pixelCodes == nil)
    #expect(
      Self.rows(resized)
        == (try Self.expected(resized.sources, channels: 3, size: (3, 4))).map {
          $0.map(\.bitPattern)
        })
  }

  @Test("IDX bytes scaled by 255 read as 8-bit rows equal to k / 255; other scalings stay Double")
  func idxBytes() throws {
    let pixels: [UInt8] = [0, 255, 51, 102, 10, 20, 30, 40, 255, 255, 0, 7]
    let bytes = idx(dimensions: [3, 2, 2], data: pixels)
    var options = ReadOptions()
    options.requireLabels = false
    let reading = try IDXReader.readWithScaling("x.idx", bytes: bytes, options: options)
    #expect(reading.dataset.pixelCodes?.codes == pixels)
    #expect(reading.dataset.features.storage == pixels.map { Double($0) / 255 })
    #expect(reading.scaling?.divisor == 255)
    #expect(reading.dataset.imageShape == ImageShape(height: 2, width: 2))
    options.scale = .none
    let raw = try IDXReader.readWithScaling("x.idx", bytes: bytes, options: options)
    #expect(raw.dataset.pixelCodes == nil)
    #expect(raw.dataset.features.storage == pixels.map { Double($0) })
    // Small integers (maximum ≤ 16) are scaled by their maximum: Double rows.
    options.scale = .auto
    let small = try IDXReader.readWithScaling(
      "x.idx", bytes: idx(dimensions: [1, 2, 2], data: [0, 4, 8, 16]), options: options)
    #expect(small.dataset.pixelCodes == nil)
    #expect(small.dataset.features.storage == [0, 0.25, 0.5, 1])
  }
}

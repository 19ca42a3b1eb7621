import GlimpseCore
import GlimpseTestSupport
import Testing

/// 8-bit dataset storage (issue #16, item 3): every value read back is the bits the `Double`
/// path held.
@Suite("8-bit dataset storage")
struct Dataset8BitTests {
  /// Random codes for `rows` rows of `shape`, seeded.
  static func codes(rows: Int, shape: ImageShape, seed: UInt64) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<rows * shape.valueCount).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
  }

  /// The same rows stored both ways.
  static func pair(rows: Int = 9, shape: ImageShape = ImageShape(height: 3, width: 4, channels: 3))
    -> (pixels: Dataset, doubles: Dataset)
  {
    let codes = PixelRows(
      rows: rows, columns: shape.valueCount, codes: codes(rows: rows, shape: shape, seed: 7))
    let labels = (0..<rows).map { $0 % 3 }
    let sources = (0..<rows).map { "row\($0)" }
    let pixels = Dataset(
      rows: .pixels(codes), labels: labels, classNames: ["a", "b", "c"], imageShape: shape,
      sources: sources)
    // Today's path: each byte through `Image(shape:eightBitSamples:)`, as the PNG/JPEG readers do.
    let doubles = Dataset(
      features: Matrix(
        rows: rows, columns: shape.valueCount,
        storage: (0..<rows).flatMap {
          Image(shape: shape, eightBitSamples: Array(codes.row($0))).pixels
        }),
      labels: labels, classNames: ["a", "b", "c"], imageShape: shape, sources: sources)
    return (pixels, doubles)
  }

  @Test("levels are the readers' Double(k) / 255, bit for bit, for all 256 codes")
  func levels() {
    let image = Image(
      shape: ImageShape(height: 1, width: 256), eightBitSamples: (0...255).map { UInt8($0) })
    #expect(PixelRows.levels.map(\.bitPattern) == image.pixels.map(\.bitPattern))
  }

  @Test("codes found exactly from doubles round-trip; non-levels, NaN and −0 are refused")
  func exactCodes() throws {
    let (pixels, doubles) = Self.pair()
    let found = try #require(PixelRows(exactly: doubles.features))
    #expect(found == pixels.pixelCodes)
    #expect(PixelRows.codes(exactly: [0.5]) == nil)
    #expect(PixelRows.codes(exactly: [Double.nan]) == nil)
    #expect(PixelRows.codes(exactly: [-0.0]) == nil)
    #expect(PixelRows.codes(exactly: [1.5]) == nil)
    #expect(PixelRows.codes(exactly: [0, 1, 128.0 / 255]) == [0, 255, 128])
  }

  @Test("8-bit features, rows, images and value range equal the Double path's bits")
  func sameValues() throws {
    let (pixels, doubles) = Self.pair()
    #expect(pixels.pixelCodes != nil && doubles.pixelCodes == nil)
    #expect(pixels.features.storage.map(\.bitPattern) == doubles.features.storage.map(\.bitPattern))
    #expect(pixels.rows(2..<5) == doubles.features.selectingRows(2..<5))
    #expect(pixels.rows(0..<0).rows == 0)
    for row in 0..<pixels.count {
      #expect(pixels.image(at: row) == doubles.image(at: row))
      #expect(pixels.values(ofRow: row) == Array(doubles.features.row(row)))
    }
    #expect(pixels.valueRange == doubles.features.valueRange)
    #expect(pixels.count == 9 && pixels.featureCount == 36)
  }

  @Test("subsets keep 8-bit storage and equal the Double subset; relabelling keeps storage")
  func subsets() throws {
    let (pixels, doubles) = Self.pair()
    let order = [4, 0, 4, 8]
    let subset = pixels.subset(order)
    #expect(subset.pixelCodes != nil)
    #expect(subset.features == doubles.subset(order).features)
    #expect(subset.labels == doubles.subset(order).labels)
    #expect(subset.sources == ["row4", "row0", "row4", "row8"])
    let relabelled = pixels.relabelled(Array(repeating: 0, count: 9), classNames: ["only"])
    #expect(relabelled.pixelCodes == pixels.pixelCodes)
    #expect(relabelled.classCounts == [9])
  }

  @Test("chunks cover the rows in order; stacking chunked results equals one pass")
  func chunks() {
    let (pixels, doubles) = Self.pair(rows: 11)
    #expect(pixels.chunkRanges(4) == [0..<4, 4..<8, 8..<11])
    #expect(pixels.chunkRanges(20) == [0..<11])
    var seen: [Int] = []
    let stacked = pixels.stackingChunks(4) { rows in
      seen.append(rows.rows)
      guard case .pixels = rows else { return Matrix(rows: 0, columns: 0) }
      return rows.doubles()
    }
    #expect(seen == [4, 4, 3])
    #expect(stacked == doubles.features)
  }

  @Test("setting features stores doubles")
  func settingFeatures() {
    var (pixels, _) = Self.pair()
    pixels.features.storage = pixels.features.storage.map { 2 * $0 }
    #expect(pixels.pixelCodes == nil)
    #expect(pixels.valueRange?.upperBound ?? 0 > 1)
  }
}

import GlimpseCore
import GlimpseTestSupport
import Testing

@Suite("Image, ImageShape, Dataset, parallelMap")
struct ImageAndDatasetTests {
  @Test("shapes parse as HxW or HxWxC and square widths are inferred")
  func shapes() {
    #expect(ImageShape(parsing: "32x32x3") == ImageShape(height: 32, width: 32, channels: 3))
    #expect(ImageShape(parsing: "28×20") == ImageShape(height: 28, width: 20, channels: 1))
    #expect(ImageShape(parsing: "28") == nil)
    #expect(ImageShape(parsing: "0x4") == nil)
    #expect(ImageShape(parsing: "4x4x9") == nil)
    #expect(ImageShape.inferredSquare(valueCount: 784) == ImageShape(height: 28, width: 28))
    #expect(ImageShape.inferredSquare(valueCount: 2) == nil)
    #expect(ImageShape.inferredSquare(valueCount: 785) == nil)
  }

  @Test("RGB to grey uses BT.601 weights; grey to RGB replicates; alpha is dropped")
  func channelConversion() {
    let rgb = Image(
      shape: ImageShape(height: 1, width: 2, channels: 3), pixels: [1, 0, 0, 0.2, 0.4, 0.6])
    let grey = rgb.converted(toChannels: 1)
    #expect(
      maxAbsoluteDifference(grey.pixels, [0.299, 0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6]) < 1e-12)
    let back = grey.converted(toChannels: 3)
    #expect(
      back.pixels == [
        grey.pixels[0], grey.pixels[0], grey.pixels[0], grey.pixels[1], grey.pixels[1],
        grey.pixels[1],
      ])
    let rgba = Image(
      shape: ImageShape(height: 1, width: 1, channels: 4), pixels: [0.1, 0.2, 0.3, 0])
    #expect(rgba.converted(toChannels: 3).pixels == [0.1, 0.2, 0.3])
  }

  @Test("8-bit quantisation rounds and clamps")
  func eightBit() {
    let image = Image(
      shape: ImageShape(height: 1, width: 4), pixels: [-0.5, 0.5, 1.5, 254.6 / 255])
    #expect(image.eightBitSamples() == [0, 128, 255, 255])
  }

  @Test("dataset subsets keep classes, shape and sources; images fold back")
  func datasetSubset() {
    let dataset = Dataset(
      features: Matrix([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]), labels: [1, 0, 1],
      classNames: ["cat", "dog"], imageShape: ImageShape(height: 2, width: 2),
      sources: ["a", "b", "c"])
    #expect(dataset.classCounts == [1, 2])
    let subset = dataset.subset([2, 0])
    #expect(subset.labels == [1, 1])
    #expect(subset.sources == ["c", "a"])
    #expect(subset.classNames == ["cat", "dog"])
    #expect(subset.image(at: 0)?.pixels == [8, 9, 10, 11])
  }

  @Test("parallelMap returns results in index order")
  func parallelMapOrder() {
    #expect(parallelMap(1000) { $0 * $0 } == (0..<1000).map { $0 * $0 })
    #expect(parallelMap(0) { $0 }.isEmpty)
    #expect(contiguousChunks(of: 10, parts: 3) == [0..<3, 3..<6, 6..<10])
  }
}

import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

/// `samples/colour`: 128×128 RGB crops of four photos scikit-image ships (samples/colour/make_colour.py).
@Suite("The colour sample set")
struct ColourSampleTests {
  @Test("samples/colour reads as an image folder of 64 RGB 128×128 crops, 16 in each of 4 classes")
  func readsAsImageFolder() throws {
    let reading = try ImageFolderReader.read(TestPaths.samples + "/colour")
    let dataset = reading.dataset
    #expect(reading.skipped.isEmpty)
    #expect(dataset.count == 64)
    #expect(dataset.imageShape == ImageShape(height: 128, width: 128, channels: 3))
    #expect(dataset.classNames == ["astronaut", "cat", "coffee", "retina"])
    #expect(dataset.classCounts == [16, 16, 16, 16])
  }

  /// The set is meant to need more than colour: the mean colour of a crop, classified by the
  /// nearest class mean of the other 63 crops, gets some wrong (make_colour.py prints 0.812).
  @Test(
    "the classes are not separated by mean colour alone (leave-one-out nearest class mean < 0.95)")
  func notSeparableByMeanColour() throws {
    let dataset = try ImageFolderReader.read(TestPaths.samples + "/colour").dataset
    let means: [[Double]] = try (0..<dataset.count).map { row in
      let image = try #require(dataset.image(at: row))
      var sums = [0.0, 0.0, 0.0]
      for (index, value) in image.pixels.enumerated() { sums[index % 3] += value }
      return sums.map { $0 / Double(image.width * image.height) }
    }
    // Colour photos, not grey copies: some crop has channels that differ on average.
    #expect(means.contains { abs($0[0] - $0[2]) > 0.1 })
    let classes = dataset.classNames.count
    var correct = 0
    for held in 0..<dataset.count {
      var centroids = [[Double]](repeating: [0, 0, 0], count: classes)
      var counts = [Int](repeating: 0, count: classes)
      for row in 0..<dataset.count where row != held {
        let label = dataset.labels[row]
        counts[label] += 1
        for c in 0..<3 { centroids[label][c] += means[row][c] }
      }
      let distances = (0..<classes).map { label in
        (0..<3).map { c in
          let d = centroids[label][c] / Double(counts[label]) - means[held][c]
          return d * d
        }.reduce(0, +)
      }
      if distances.firstIndex(of: distances.min()!) == dataset.labels[held] { correct += 1 }
    }
    let accuracy = Double(correct) / Double(dataset.count)
    #expect(accuracy < 0.95, "mean colour separates the classes (\(accuracy))")
    #expect(abs(accuracy - 0.8125) < 1e-9, "the script's figure is 52 of 64")
  }
}

import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: the 224×224 texture samples, explained with the segmenters for that size")
struct TextureSampleTests {
  @Test(
    "samples/textures reads as 72 grey 224×224 patches of 3 classes; an explanation of one uses the large-image defaults"
  )
  func texturesExplainWithSizedDefaults() throws {
    let textures = TestPaths.samples + "/textures"
    let reading = try DatasetReader.read(textures)
    #expect(reading.dataset.count == 72)
    #expect(reading.dataset.imageShape == ImageShape(height: 224, width: 224, channels: 1))
    #expect(reading.dataset.classNames == ["brick", "grass", "gravel"])
    let d = makeTemporaryDirectory()
    #expect(
      run([
        "train", textures, "--model", "svm", "--kernel", "linear", "--train-size", "12", "--seed",
        "1", "--out", d + "/svm.glimpse",
      ]).status == 0)
    let outcome = run([
      "explain", d + "/svm.glimpse", "--image", textures + "/gravel/gravel-00.png", "--samples",
      "20", "--out", d + "/e.png",
    ])
    #expect(outcome.status == 0)
    let sidecar =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/e.json")))
      as? [String: Any]
    let specs = (sidecar?["segmenters"] as? [[String: Any]])?.compactMap { $0["spec"] as? String }
    #expect(
      specs == [
        "slic:50:0.3", "slic:100:0.3", "felzenszwalb:200:0.8:100", "quickshift:4:200:0.2", "grid:6",
        "grid:12",
      ])
  }
}

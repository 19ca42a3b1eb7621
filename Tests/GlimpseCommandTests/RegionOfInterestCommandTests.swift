import Foundation
import GlimpseCore
import GlimpseData
import GlimpseReport
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: a region of interest (--mask)")
struct RegionOfInterestCommandTests {
  /// A 28 × 28 mask whose left half is inside.
  func leftHalfMask(in d: String, width: Int = 28) throws -> String {
    let path = d + "/mask.png"
    let codes = (0..<(28 * width)).map { UInt8($0 % width < width / 2 ? 255 : 0) }
    try AtomicFile.write(
      PNGCodec.encode(
        Image(shape: ImageShape(height: 28, width: width, channels: 1), eightBitSamples: codes)),
      to: path)
    return path
  }

  @Test(
    "explain --mask: SLIC only inside, the outside one segment that weighs 0 and that the faithfulness curves leave shown; the sidecar names the mask"
  )
  func explainWithMask() throws {
    let d = makeTemporaryDirectory()
    let model = d + "/svm.glimpse"
    #expect(run(["train", TestPaths.samples + "/digits", "--out", model]) == (0, []))
    let mask = try leftHalfMask(in: d)
    #expect(
      run([
        "explain", model, "--image", TestPaths.samples + "/digits/3/1500.png", "--samples", "60",
        "--segmenter", "slic:25:0.1:0:10:0", "--segmenter", "grid:4", "--mask", mask, "--out",
        d + "/e.png",
      ]) == (0, []))
    let sidecar = try JSONDecoder().decode(
      ExplanationSidecar.self, from: Data(FileBytes.readRaw(d + "/e.json")))
    for segmenter in sidecar.segmenters {
      // The right half (x ≥ 14) is one segment, the last, and weighs 0 for both classes.
      let outside = Int32(segmenter.segmentCount - 1)
      for p in 0..<784 where p % 28 >= 14 { #expect(segmenter.segments[p] == outside) }
      for p in 0..<784 where p % 28 < 14 { #expect(segmenter.segments[p] != outside) }
      #expect(segmenter.weights.allSatisfy { $0[Int(outside)] == 0 })
      // The curves move the segments inside only: M − 1 features give M points.
      #expect(segmenter.faithfulness?.fractions.count == segmenter.segmentCount)
    }
    #expect(sidecar.mask == mask)
  }

  @Test("a mask of the wrong size or with nothing inside is one error line, exit 65")
  func badMasks() throws {
    let d = makeTemporaryDirectory()
    let wrong = try leftHalfMask(in: d, width: 20)
    let image = TestPaths.samples + "/digits/3/1500.png"
    let outcome = run(["segment", "--image", image, "--mask", wrong, "--out", d + "/s.png"])
    #expect(outcome.status == 65)
    #expect(outcome.errors.count == 1 && outcome.errors[0].contains("mask is 20×28"))
    let model = d + "/svm.glimpse"
    #expect(run(["train", TestPaths.samples + "/digits", "--out", model]) == (0, []))
    let explain = run(["explain", model, "--image", image, "--mask", wrong, "--out", d + "/e.png"])
    #expect(explain.status == 65 && explain.errors.count == 1)
  }
}

import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Console formatting: total for any Double")
struct ConsoleTests {
  @Test("formatFixed gives the usual digits for ordinary values")
  func ordinaryValues() {
    #expect(formatFixed(0, digits: 4) == "0.0000")
    #expect(formatFixed(1.5, digits: 2) == "1.50")
    #expect(formatFixed(-0.25, digits: 1) == "-0.3")
    #expect(formatFixed(-0.0001, digits: 2) == "0.00")
    #expect(formatFixed(255, digits: 0) == "255")
    #expect(formatFixed(0.999999, digits: 4) == "1.0000")
    #expect(formatFixed(12.05, digits: 3) == "12.050")
  }

  @Test("formatFixed does not trap on huge, tiny, non-finite values or odd digit counts")
  func hugeAndNonFiniteValues() {
    #expect(formatFixed(1e300, digits: 4) == "1e+300")
    #expect(formatFixed(-1e300, digits: 4) == "-1e+300")
    #expect(
      formatFixed(.greatestFiniteMagnitude, digits: 2) == String(Double.greatestFiniteMagnitude))
    #expect(formatFixed(.nan, digits: 4) == "nan")
    #expect(formatFixed(.infinity, digits: 4) == "inf")
    #expect(formatFixed(-.infinity, digits: 1) == "-inf")
    #expect(formatFixed(9.2e18, digits: 0) == "9.2e+18")
    #expect(formatFixed(1e15, digits: 4) == String(1e15))
    #expect(formatFixed(.leastNonzeroMagnitude, digits: 4) == "0.0000")
    #expect(formatFixed(3.5, digits: -2) == "4")
    #expect(formatFixed(1, digits: 400) == "1.000000000000000")
    // Right below the exact-integer limit the digits still come out whole (no negative fraction).
    #expect(formatFixed(900_719_925_474.0991, digits: 4) == "900719925474.0991")
    #expect(formatDuration(.infinity) == "inf s")
    #expect(formatDuration(-.infinity) == "-inf s")
    #expect(formatDuration(.nan) == "nan s")
  }

  @Test("clampedInt saturates and maps NaN to 0; formatPercent is total")
  func clampedIntegers() {
    #expect(clampedInt(2.5) == 3)
    #expect(clampedInt(-2.4) == -2)
    #expect(clampedInt(.nan) == 0)
    #expect(clampedInt(1e300) == Int.max)
    #expect(clampedInt(-.infinity) == Int.min)
    #expect(clampedInt(9_223_372_036_854_775_807.0) == Int.max)
    #expect(formatPercent(0.625) == "63%")
    #expect(formatPercent(.nan) == "?%")
    #expect(formatPercent(1e300) == "?%" || formatPercent(1e300) == "\(Int.max)%")
  }

  @Test("info on a table with a 1e300 cell prints its value range (no trap)")
  func infoWithHugeCell() throws {
    let d = makeTemporaryDirectory()
    try writeFile("a,b,c,d,label\n1e300,0,0,0,x\n0,-1e300,0,1,y\n", to: d + "/huge.csv")
    #expect(run(["info", d + "/huge.csv", "--sheet", d + "/s.png"]) == (0, []))
    let dataset = try DatasetReader.read(d + "/huge.csv").dataset
    let lines = DatasetSummary.lines(dataset, name: "huge")
    #expect(lines.contains("  values:   -1e+300 … 1e+300"))
    #expect(lines.contains("  features: 4 (images 2×2 (H×W), 1 channel)"))
  }

  @Test(
    "info on IDX float data with huge, NaN and infinite values prints its value range (no trap)",
    arguments: [
      [Float(3e38), 0, 1, -3e38, 0, 2e38, 0.5, 0],
      [Float.infinity, 0, 1, -Float.infinity, Float.nan, 3e38, 0.5, 0],
    ] as [[Float]])
  func infoWithNonFiniteIDX(values: [Float]) throws {
    let d = makeTemporaryDirectory()
    func bigEndian(_ value: UInt32) -> [UInt8] {
      [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }
    var images: [UInt8] = [0, 0, 0x0D, 3] + bigEndian(2) + bigEndian(2) + bigEndian(2)
    for value in values { images += bigEndian(value.bitPattern) }
    try writeFile(images, to: d + "/images.idx")
    try writeFile([0, 0, 0x08, 1] + bigEndian(2) + [0, 1], to: d + "/labels.idx")
    let outcome = run([
      "info", d + "/images.idx", "--labels", d + "/labels.idx", "--sheet", d + "/s.png",
    ])
    // Either a clean reading or one clear error line; never a trap.
    #expect(
      outcome.status == 0 || (outcome.status == ExitStatus.badInput && outcome.errors.count == 1))
  }

  @Test("a gallery of sidecars with absurd probabilities is still written (no trap)")
  func galleryWithHugeProbabilities() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      #"{"source": "a.png", "probabilities": {"1": 1e300, "7": -1e300}, "explained": ["1", "7"], "agreement": [1e300], "png": "a.png"}"#,
      to: d + "/a.json")
    try writeFile([1, 2, 3], to: d + "/a.png")
    #expect(run(["gallery", d]) == (0, []))
    let html = String(decoding: try FileBytes.readRaw(d + "/index.html"), as: UTF8.self)
    #expect(html.contains("1 explanations"))
  }
}

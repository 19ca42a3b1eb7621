import Foundation
import GlimpseCore
import GlimpseData
import GlimpseReport
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: explanations")
struct ExplainCommandTests {
  static let images = CommandTests.images
  static let labels = CommandTests.labels

  /// A small SVM on the sample folder, trained once per test.
  func model(in d: String) -> String {
    let path = d + "/svm.glimpse"
    #expect(run(["train", TestPaths.samples + "/digits", "--out", path]) == (0, []))
    return path
  }

  @Test("explain writes a PNG and a sidecar with the segmenters, weights and model hash")
  func explainWritesFigureAndSidecar() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    let out = d + "/e.png"
    #expect(
      run([
        "explain", model, "--image", TestPaths.samples + "/digits/3/1500.png", "--samples", "60",
        "--segmenter", "slic:25:0.1", "--segmenter", "grid:4", "--out", out,
      ]) == (0, []))
    let png = try PNGCodec.decode(FileBytes.readRaw(out))
    #expect(png.width > 300 && png.height > 400)
    let sidecar = try JSONDecoder().decode(
      ExplanationSidecar.self, from: Data(FileBytes.readRaw(d + "/e.json")))
    #expect(sidecar.segmenters.map(\.spec) == ["slic:25:0.1", "grid:4"])
    #expect(sidecar.segmenters[1].segmentCount == 16)
    #expect(sidecar.segmenters[0].segments.count == 784)
    #expect(sidecar.model.sha256 == SHA256.hexDigest(try FileBytes.readRaw(model)))
    #expect(sidecar.combined.count == 2 && sidecar.combined[0].count == 784)
    #expect(sidecar.explained.count == 2)
  }

  @Test(
    "explain-batch over a folder with a corrupt file explains the rest, lists the skipped one, and builds a gallery; shards split the work"
  )
  func batchSkipsBadFilesAndShards() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    let folder = d + "/in"
    for (i, name) in ["0/0000.png", "3/1500.png", "7/3500.png"].enumerated() {
      try FileManager.default.createDirectory(
        atPath: folder + "/\(i)", withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        atPath: TestPaths.samples + "/digits/" + name, toPath: folder + "/\(i)/x.png")
    }
    try writeFile([0x89, 0x50, 0x4E, 0x47, 9, 9], to: folder + "/1/broken.png")
    let common = [
      "--samples", "40", "--segmenter", "grid:4", "--folder", folder, "--out", d + "/out",
    ]
    // Shards count from 0; the shard holding the broken file exits 3 (partial).
    let statuses = [
      run(["explain-batch", model] + common + ["--shard", "0/2"]).status,
      run(["explain-batch", model] + common + ["--shard", "1/2"]).status,
    ]
    #expect(statuses.sorted() == [0, ExitStatus.partial])
    let files = try FileManager.default.contentsOfDirectory(atPath: d + "/out")
    #expect(files.filter { $0.hasSuffix(".png") }.count == 3)
    #expect(files.filter { $0.hasPrefix("skipped") }.count == 1)
    let html = String(decoding: try FileBytes.readRaw(d + "/out/index.html"), as: UTF8.self)
    #expect(html.contains("3 explanations"))
    #expect(html.contains("broken.png"))
  }

  @Test("segment writes boundaries and a label map CSV; a bad spec is one clear error")
  func segment() throws {
    let d = makeTemporaryDirectory()
    #expect(
      run([
        "segment", "--image", TestPaths.samples + "/digits/3/1500.png", "--segmenter", "grid:7",
        "--out", d + "/s.png",
      ]) == (0, []))
    let map = try CSVReader.parse(
      Array("h\n".utf8)
        + FileBytes.readRaw(d + "/s.csv").map { $0 == UInt8(ascii: ",") ? UInt8(ascii: ";") : $0 },
      path: "s.csv", textColumns: ["h"])
    #expect(map.rowCount == 28)
    let bad = run([
      "segment", "--image", TestPaths.samples + "/digits/3/1500.png", "--segmenter", "blobs:3",
    ])
    #expect(bad.status == ExitStatus.badInput)
    #expect(
      bad.errors.first?.hasPrefix("glimpse: error: segmenter 'blobs:3': unknown segmenter") == true)
  }

  @Test("ambiguous writes the rows sorted by margin")
  func ambiguous() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    #expect(
      run([
        "ambiguous", model, Self.images, "--labels", Self.labels, "--all", "--out", d + "/a.csv",
      ]) == (0, []))
    let table = try CSVReader.read(
      d + "/a.csv", textColumns: ["source", "truth", "first", "second"])
    #expect(table.rowCount == 5000)
    let margins = (0..<table.rowCount).map { table.values[$0, 3] }
    #expect(margins == margins.sorted())
  }
}

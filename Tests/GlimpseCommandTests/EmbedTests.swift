import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// `embed` keeps each row's source, and `value --sheet` on embeddings draws the original images.
@Suite("Command line: embed sources, sheets of embeddings")
struct EmbedTests {
  @Test("a non-numeric source column is metadata: the rows' sources, not a feature")
  func sourceColumnIsNotAFeature() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      "e0,e1,label,source\n0.5,1,a,x/one.png\n1.5,2,b,\"y,2.png\"\n", to: d + "/emb.csv")
    let data = try DatasetReader.read(d + "/emb.csv").dataset
    #expect(data.featureCount == 2)
    #expect(data.sources == ["x/one.png", "y,2.png"])
    #expect(data.classNames == ["a", "b"])
  }

  @Test(
    "embed writes label and source columns; value --sheet on the embeddings draws the original images"
  )
  func embedThenSheet() throws {
    let d = makeTemporaryDirectory()
    try FlowsImages.writeFolder(d + "/train", perClass: 6, seed: 1, size: { _ in (16, 16) })
    try FlowsImages.writeFolder(
      d + "/valid", perClass: 3, seed: 2, size: { $0 == 0 ? (20, 20) : (16, 16) })
    #expect(
      run(["train", d + "/train", "--model", "cnn", "--epochs", "1", "--out", d + "/cnn.glimpse"])
        == (0, []))
    #expect(run(["embed", d + "/cnn.glimpse", d + "/train", "--out", d + "/emb.csv"]) == (0, []))
    #expect(
      run(["embed", d + "/cnn.glimpse", d + "/valid", "--out", d + "/emb-valid.csv"]) == (0, []))
    let header = try String(contentsOfFile: d + "/emb.csv", encoding: .utf8).prefix { $0 != "\n" }
    #expect(header.hasSuffix(",label,source"))
    let embedded = try DatasetReader.read(d + "/emb.csv").dataset
    #expect(embedded.sources.first == d + "/train/circle/circle-0.png")
    #expect(embedded.count == 18)
    #expect(
      run([
        "value", d + "/emb.csv", "--valid", d + "/emb-valid.csv", "--method", "knn", "--k", "3",
        "--out", d + "/v.csv", "--sheet", d + "/sheet.png", "--sheet-count", "3",
      ]) == (0, []))
    #expect(try PNGCodec.decode(FileBytes.readRaw(d + "/sheet.png")).width > 200)
    // The originals gone: one line naming the embeddings table and the missing source.
    try FileManager.default.removeItem(atPath: d + "/train")
    let outcome = run([
      "value", d + "/emb.csv", "--valid", d + "/emb-valid.csv", "--method", "knn", "--k", "3",
      "--out", d + "/v2.csv", "--sheet", d + "/sheet2.png", "--sheet-count", "3",
    ])
    #expect(outcome.status == ExitStatus.badInput)
    #expect(outcome.errors.count == 1)
    #expect(
      outcome.errors.first?.hasPrefix(
        "glimpse: error: \(d)/emb.csv: the data sheet draws the original images named in the source column; row "
      ) == true)
    #expect(outcome.errors.first?.hasSuffix("cannot be drawn: no such image file") == true)
  }

  @Test("original images are found from image files (also beside the table) and from table lines")
  func originalsFromFilesAndTableLines() throws {
    let d = makeTemporaryDirectory()
    let picture = FlowsImages.shapeImage(label: 1, height: 9, width: 7, seed: 4)
    try writeFile(PNGCodec.encode(picture), to: d + "/pics/a.png")
    // A 2×2 grey image table: line 3 holds the second row.
    try writeFile("p0,p1,p2,p3,label\n0,255,0,255,x\n255,0,0,51,y\n", to: d + "/pixels.csv")
    let data = Dataset(
      features: Matrix(rows: 3, columns: 1, storage: [1, 2, 3]), labels: [0, 0, 0],
      classNames: ["x"],
      sources: [d + "/pics/a.png", "pics/a.png", d + "/pixels.csv:3"])
    let images = try OriginalImages(dataPath: d + "/emb.csv").images(of: [0, 1, 2], in: data)
    #expect(images[0] == picture)
    #expect(images[1] == picture)
    #expect(images[2]?.pixels == [1, 0, 0, 0.2])
    #expect(ValueFigures.sourcesAreOrigins(data, dataPath: d + "/emb.csv"))
    let own = Dataset(
      features: Matrix(rows: 1, columns: 1, storage: [1]), labels: [0], classNames: ["x"],
      sources: [d + "/t.csv:2"])
    #expect(!ValueFigures.sourcesAreOrigins(own, dataPath: d + "/t.csv"))
  }

  @Test("an error quoting a source escapes control bytes and stays short")
  func escapedSource() {
    #expect(quoted("a\nb\u{1}c", delimiter: "\"") == "\"a\\nb\\x01c\"")
    #expect(
      quoted(String(repeating: "z", count: 80), delimiter: "\"") == "\""
        + String(repeating: "z", count: 60) + "…\"")
    // Undecodable bytes and bidi controls are shown by number; the limit counts escapes.
    #expect(quoted("a\u{FFFD}\u{202E}b", delimiter: "'") == "'a\\u{FFFD}\\u{202E}b'")
    #expect(quoted(String(repeating: "\u{0}", count: 40)).count <= 61)
    #expect(quoted("it's", delimiter: "'") == "'it\\'s'")
  }
}

import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// `clean` on an image folder writes a folder of the kept originals and a drop list; it never
/// writes over an input.
@Suite("Command line: clean on folders and tables")
struct CleanTests {
  /// A 16×16 training folder (3 classes × 6, and 2 mislabelled), a test folder of other sizes, and knn values.
  static func valuedFolder(_ d: String) throws {
    try FlowsImages.writeFolder(d + "/train", perClass: 6, seed: 1, size: { _ in (16, 16) })
    // Two red squares filed as triangles: points worth less than the rest.
    for i in 0..<2 {
      try writeFile(
        PNGCodec.encode(
          FlowsImages.shapeImage(label: 0, height: 16, width: 16, seed: 50 + UInt64(i))),
        to: d + "/train/triangle/odd-\(i).png")
    }
    try FlowsImages.writeFolder(
      d + "/test", perClass: 3, seed: 2, size: { $0 == 1 ? (23, 17) : (16, 16) })
    #expect(
      run([
        "value", d + "/train", "--valid", d + "/test", "--method", "knn", "--k", "3", "--out",
        d + "/v.csv",
      ]) == (0, []))
  }

  static func values(_ path: String) throws -> [Double] {
    let table = try CSVReader.read(path, textColumns: ["source", "label", "stderr"])
    return (0..<table.rowCount).map { table.values[$0, 1] }
  }

  @Test(
    "clean on a folder copies the kept files byte for byte into OUT/<class>/ and lists the dropped ones"
  )
  func cleanFolderWritesFolderAndDropList() throws {
    let d = makeTemporaryDirectory()
    try Self.valuedFolder(d)
    let values = try Self.values(d + "/v.csv")
    let distinct = Array(Set(values)).sorted()
    try #require(distinct.count > 2)
    let threshold = distinct[distinct.count / 2]
    let dropCount = values.count { $0 < threshold }
    #expect(
      run([
        "clean", d + "/train", "--values", d + "/v.csv", "--test", d + "/test", "--model", "knn",
        "--k", "3",
        "--threshold", String(threshold), "--out", d + "/kept",
      ]) == (0, []))
    let kept = try DatasetReader.read(d + "/kept").dataset
    #expect(kept.count == 20 - dropCount)
    for source in kept.sources {
      let original = source.replacingOccurrences(of: d + "/kept/", with: d + "/train/")
      #expect(try FileBytes.readRaw(source) == FileBytes.readRaw(original))
    }
    let drop = try CSVReader.read(d + "/kept-dropped.csv", textColumns: ["source", "label"])
    #expect(drop.header == ["row", "source", "label", "value"])
    #expect(drop.rowCount == dropCount)
    let dropped = drop.textColumns["source"] ?? []
    #expect(dropped.allSatisfy { $0.hasPrefix(d + "/train/") && FileBytes.exists($0) })
    #expect(
      Set(dropped).isDisjoint(
        with: kept.sources.map { $0.replacingOccurrences(of: d + "/kept/", with: d + "/train/") }))
    // Lowest value first.
    let dropValues = (0..<drop.rowCount).map { drop.values[$0, 1] }
    #expect(dropValues == dropValues.sorted())
  }

  @Test(
    "clean refuses to write over, into or around an input, or into a non-empty folder",
    arguments: [
      ("values", "/v.csv"), ("inside", "/train/new"), ("around", "/"), ("nonempty", "/test"),
    ])
  func cleanNeverWritesOverAnInput(name: String, out: String) throws {
    let d = makeTemporaryDirectory()
    try Self.valuedFolder(d)
    let before = try FileBytes.readRaw(d + "/v.csv")
    let target = name == "around" ? d : d + out
    let outcome = run([
      "clean", d + "/train", "--values", d + "/v.csv", "--test", d + "/test", "--model", "knn",
      "--out", target,
    ])
    // An output that is or lies in an input: 65 (bad input), as every command refuses it.
    #expect(outcome.status == 65, "\(name)")
    #expect(outcome.errors.count == 1)
    #expect(outcome.errors.first?.hasPrefix("glimpse: error: \(target): ") == true)
    #expect(try FileBytes.readRaw(d + "/v.csv") == before)
    #expect(!FileBytes.exists(d + "/train/new"))
    // The drop list may not name an input either.
    let list = run([
      "clean", d + "/train", "--values", d + "/v.csv", "--test", d + "/test", "--model", "knn",
      "--out", d + "/ok", "--drop-list", d + "/v.csv",
    ])
    #expect(list.status == 65)
    #expect(try FileBytes.readRaw(d + "/v.csv") == before)
  }

  @Test("clean on a table keeps the cleaned table, now with sources, and adds the drop list")
  func cleanTableAddsDropList() throws {
    let d = makeTemporaryDirectory()
    try ValueCommandTests.writePoints(d)
    #expect(
      run([
        "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", "knn", "--k", "3",
        "--out", d + "/v.csv",
      ]) == (0, []))
    #expect(
      run([
        "clean", d + "/train.csv", "--values", d + "/v.csv", "--test", d + "/test.csv", "--out",
        d + "/clean.csv",
      ]) == (0, []))
    let cleaned = try DatasetReader.read(d + "/clean.csv").dataset
    #expect(cleaned.featureCount == 2)
    #expect(cleaned.sources.allSatisfy { $0.hasPrefix(d + "/train.csv:") })
    let drop = try CSVReader.read(d + "/clean-dropped.csv", textColumns: ["source", "label"])
    #expect(drop.rowCount + cleaned.count == 40)
    #expect(Set(drop.textColumns["source"] ?? []).isDisjoint(with: cleaned.sources))
  }
}

import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: value, value merge, clean")
struct ValueCommandTests {
  /// Two noisy 2-D blobs (a table of plain points, no images); rows 3 and 17 carry the wrong label.
  static func writePoints(_ directory: String) throws {
    var rng = SeededGenerator(seed: 7)
    func table(_ count: Int, flips: Set<Int>) -> String {
      var text = "x,y,label\n"
      for row in 0..<count {
        let label = row % 2
        let x = Double(label) * 2 + Double.random(in: -1...1, using: &rng)
        let y = Double(label) * 2 + Double.random(in: -1...1, using: &rng)
        text += "\(x),\(y),\(flips.contains(row) ? 1 - label : label)\n"
      }
      return text
    }
    try writeFile(table(40, flips: [3, 17]), to: directory + "/train.csv")
    try writeFile(table(30, flips: []), to: directory + "/valid.csv")
    try writeFile(table(30, flips: []), to: directory + "/test.csv")
  }

  static func values(_ path: String) throws -> [Double] {
    let table = try CSVReader.read(path, textColumns: ["source", "label", "stderr"])
    #expect(table.header == ["index", "source", "label", "value", "stderr", "samples"])
    return (0..<table.rowCount).map { table.values[$0, 1] }
  }

  @Test("knn values of plain 2-D points: one row per point; the flipped points are the lowest")
  func knnOnPoints() throws {
    let d = makeTemporaryDirectory()
    try Self.writePoints(d)
    #expect(
      run([
        "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", "knn", "--k", "3",
        "--out", d + "/v.csv",
      ]) == (0, []))
    let values = try Self.values(d + "/v.csv")
    #expect(values.count == 40)
    let lowest = Set(values.indices.sorted { values[$0] < values[$1] }.prefix(2))
    #expect(lowest == [3, 17])
  }

  @Test("a resumed TMC run equals an uninterrupted one; shards merge to the same values")
  func resumeAndShardsReproduceOneRun() throws {
    let d = makeTemporaryDirectory()
    try Self.writePoints(d)
    let base = [
      "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", "tmc", "--threads", "2",
    ]
    #expect(run(base + ["--samples", "24", "--out", d + "/whole.csv"]) == (0, []))
    // A run stopped after 9 permutations (as by a kill after its last checkpoint), resumed.
    #expect(run(base + ["--samples", "9", "--out", d + "/resumed.csv"]) == (0, []))
    #expect(run(base + ["--samples", "24", "--resume", "--out", d + "/resumed.csv"]) == (0, []))
    #expect(try Self.values(d + "/resumed.csv") == Self.values(d + "/whole.csv"))
    for shard in 0..<3 {
      #expect(
        run(base + ["--samples", "24", "--shard", "\(shard)/3", "--out", d + "/part\(shard).csv"])
          == (0, []))
    }
    #expect(
      run([
        "value", "merge", d + "/part0.csv.checkpoint.json", d + "/part1.csv.checkpoint.json",
        d + "/part2.csv.checkpoint.json", "--out", d + "/merged.csv",
      ]) == (0, []))
    #expect(try Self.values(d + "/merged.csv") == Self.values(d + "/whole.csv"))
    // A checkpoint of another job is refused with one line.
    let other = run([
      "value", d + "/train.csv", "--valid", d + "/test.csv", "--method", "tmc", "--samples", "24",
      "--resume", "--checkpoint", d + "/whole.csv.checkpoint.json", "--out", d + "/x.csv",
    ])
    #expect(other.status == ExitStatus.badInput)
    #expect(other.errors.count == 1)
  }

  @Test(
    "classwise, banzhaf and loo value plain points; exact refuses more than 20 points with one line"
  )
  func otherMethods() throws {
    let d = makeTemporaryDirectory()
    try Self.writePoints(d)
    for method in ["classwise", "banzhaf", "loo"] {
      #expect(
        run([
          "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", method, "--samples",
          "40", "--out", d + "/\(method).csv",
        ]) == (0, []))
      #expect(try Self.values(d + "/\(method).csv").count == 40)
    }
    let tooMany = run([
      "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", "exact", "--out",
      d + "/e.csv",
    ])
    #expect(tooMany.status == 64)
    #expect(tooMany.errors.count == 1)
  }

  @Test("clean drops negative values, retrains, and writes a table every command reads")
  func cleanWritesATable() throws {
    let d = makeTemporaryDirectory()
    try Self.writePoints(d)
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
    let cleaned = try TableDatasetReader.read(d + "/clean.csv", options: ReadOptions())
    let values = try Self.values(d + "/v.csv")
    #expect(cleaned.count == values.count { $0 >= 0 })
    // A values file for other data is one clear error line.
    try writeFile("index,source,label,value,stderr,samples\n0,a,0,0.1,0,1\n", to: d + "/short.csv")
    let short = run([
      "clean", d + "/train.csv", "--values", d + "/short.csv", "--test", d + "/test.csv", "--out",
      d + "/c2.csv",
    ])
    #expect(short.status == ExitStatus.badInput)
    #expect(short.errors == ["glimpse: error: \(d)/short.csv: 1 values for 40 training points"])
  }
}

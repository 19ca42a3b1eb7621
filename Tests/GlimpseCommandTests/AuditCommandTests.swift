import Foundation
import GlimpseReport
import GlimpseTestSupport
import Testing

@testable import glimpse

/// A 12-row table of 4×4 images: rows 0–9 distinct, row 10 a copy of row 2 with another label,
/// row 11 a copy of row 3; and a 2-row test table whose row 0 copies DATA's row 5.
private func writeAuditTables(_ folder: String) throws {
  func row(_ seed: UInt64) -> [Int] { randomValues(16, seed: seed).map { Int($0 * 255) } }
  let rows = (0..<10).map { row(UInt64($0 + 1)) } + [row(3), row(4)]
  let labels = ["0", "1", "2", "3", "4", "0", "1", "2", "3", "4", "4", "3"]
  let header = "label," + (0..<16).map { "p\($0)" }.joined(separator: ",")
  let data = zip(rows, labels).map { "\($1)," + $0.map(String.init).joined(separator: ",") }
  try writeFile(([header] + data).joined(separator: "\n") + "\n", to: folder + "/data.csv")
  let test = [(row(6), "0"), (row(99), "1")].map {
    "\($1)," + $0.map(String.init).joined(separator: ",")
  }
  try writeFile(([header] + test).joined(separator: "\n") + "\n", to: folder + "/test.csv")
  // Annotator B: row 1 missing, row 4 graded 2 instead of 4, row 7 graded 1 instead of 2.
  let second = ["0", "", "2", "3", "2", "0", "1", "1", "3", "4", "4", "3"]
  try writeFile(
    ",label\n" + second.enumerated().map { "\($0),\($1)\n" }.joined(), to: folder + "/b.csv")
}

@Suite("glimpse audit")
struct AuditCommandTests {
  @Test("writes report.json with duplicates, conflicts, leaks and the annotators' table and kappas")
  func reportOnTables() throws {
    let folder = makeTemporaryDirectory("audit")
    try writeAuditTables(folder)
    let out = folder + "/out"
    let result = run([
      "audit", folder + "/data.csv", "--shape", "4x4", "--test", folder + "/test.csv",
      "--labels-b", folder + "/b.csv", "--grades", "0,1,2,3,4", "--out", out,
    ])
    #expect(result.status == 0, "\(result.errors)")
    let bytes = try #require(FileManager.default.contents(atPath: out + "/report.json"))
    let report = try AuditReport.decoded(Array(bytes))
    #expect(report.counts.data == 12 && report.counts.test == 2)
    #expect(report.exactDuplicates == [[2, 10], [3, 11], [5, 12]])
    #expect(report.exactDuplicateConflicts == [[2, 10]])
    #expect(report.leaks == [[5, 12]])
    #expect(report.sources[12].hasSuffix("test.csv:2"))
    let annotators = try #require(report.annotators)
    #expect(annotators.droppedMissing == [1])
    #expect(annotators.disagreements == [4, 7])
    #expect(annotators.disagreements2plus == [4])
    #expect(annotators.compared == 11)
    #expect(annotators.classes == ["0", "1", "2", "3", "4"])
    #expect(annotators.crosstab[4][2] == 1)
    for name in ["index.html", "disagreements.png", "exact_duplicates.png", "leaks.csv"] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
    }
  }

  @Test("a second label table of the wrong length is one line naming the file, exit 65")
  func wrongLength() throws {
    let folder = makeTemporaryDirectory("audit")
    try writeAuditTables(folder)
    try writeFile(",label\n0,1\n", to: folder + "/short.csv")
    let result = run([
      "audit", folder + "/data.csv", "--shape", "4x4", "--labels-b", folder + "/short.csv",
      "--out", folder + "/out",
    ])
    #expect(result.status == 65)
    #expect(result.errors.count == 1)
    #expect(result.errors.first?.contains("short.csv") == true)
  }
}

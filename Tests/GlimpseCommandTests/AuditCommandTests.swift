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

/// `glimpse predict`'s CSV for the audit tables: the model is sure of each row's label (0.9)
/// except row 6 (labelled 1, predicted 3 at 0.9).
private func writeConfidentPredictions(to path: String) throws {
  let given = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 4, 3]
  var lines = ["row,source,p_0,p_1,p_2,p_3,p_4,predicted"]
  for (row, label) in given.enumerated() {
    var p = [Double](repeating: 0.025, count: 5)
    let top = row == 6 ? 3 : label
    p[top] = 0.9
    lines.append("\(row),r\(row)," + p.map { "\($0)" }.joined(separator: ",") + ",\(top)")
  }
  try writeFile(lines.joined(separator: "\n") + "\n", to: path)
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

  @Test(
    "--pred-probs: label issues, a review queue (CSV, sheet) and report keys; conflicting duplicates and a mislabelled row lead the queue"
  )
  func labelIssuesFromPredictions() throws {
    let folder = makeTemporaryDirectory("audit")
    try writeAuditTables(folder)
    try writeConfidentPredictions(to: folder + "/probs.csv")
    let out = folder + "/out"
    let result = run([
      "audit", folder + "/data.csv", "--shape", "4x4", "--pred-probs", folder + "/probs.csv",
      "--filter-by", "predicted_neq_given", "--out", out,
    ])
    #expect(result.status == 0, "\(result.errors)")
    let bytes = try #require(FileManager.default.contents(atPath: out + "/report.json"))
    let report = try AuditReport.decoded(Array(bytes))
    let issues = try #require(report.labelIssues)
    #expect(issues.filterBy == "predicted_neq_given")
    #expect(issues.indices == [6])
    #expect(issues.classes == ["0", "1", "2", "3", "4"])
    let queue = try #require(report.reviewQueue)
    // Rows 2 and 10 are identical with labels 2 and 4 (a conflicting duplicate: rank 1 in that
    // signal, plus their self-confidence rank); row 6 is rank 1 by self-confidence only.
    #expect(queue.items.prefix(3).map(\.row) == [2, 10, 6])
    #expect(queue.items[2].suggested == "3")
    #expect(queue.items[0].suggested == "4")
    for name in ["review_queue.csv", "review_queue.png", "label_issues.csv"] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
    }
  }

  @Test(
    "--num-to-remove-per-class with prune_by_class flags that many rows of each given class (the least self-confident); a wrong count of counts is one error line"
  )
  func removePerClass() throws {
    let folder = makeTemporaryDirectory("audit")
    try writeAuditTables(folder)
    try writeConfidentPredictions(to: folder + "/probs.csv")
    let out = folder + "/out"
    let result = run([
      "audit", folder + "/data.csv", "--shape", "4x4", "--pred-probs", folder + "/probs.csv",
      "--num-to-remove-per-class", "0,1,0,0,0", "--filter-by", "prune_by_class", "--out", out,
    ])
    #expect(result.status == 0, "\(result.errors)")
    let bytes = try #require(FileManager.default.contents(atPath: out + "/report.json"))
    let issues = try #require(try AuditReport.decoded(Array(bytes)).labelIssues)
    #expect(issues.indices == [6])
    for (counts, status) in [("1,2", 65), ("1,x,0,0,0", 64)] {
      let bad = run([
        "audit", folder + "/data.csv", "--shape", "4x4", "--pred-probs", folder + "/probs.csv",
        "--num-to-remove-per-class", counts, "--out", folder + "/bad",
      ])
      #expect(bad.status == Int32(status), "\(counts): \(bad)")
      #expect(bad.errors.count == 1, "\(counts): \(bad.errors)")
    }
  }

  @Test("--folds 2 with a k-NN model computes out-of-fold probabilities for every row")
  func folds() throws {
    let folder = makeTemporaryDirectory("audit")
    try writeAuditTables(folder)
    let out = folder + "/out"
    let result = run([
      "audit", folder + "/data.csv", "--shape", "4x4", "--folds", "2", "--model", "knn",
      "--k", "1", "--out", out,
    ])
    #expect(result.status == 0, "\(result.errors)")
    let bytes = try #require(FileManager.default.contents(atPath: out + "/report.json"))
    let report = try AuditReport.decoded(Array(bytes))
    let issues = try #require(report.labelIssues)
    // Calibrated rows add up to the given-label counts.
    #expect(issues.confidentJoint.map { $0.reduce(0, +) } == [2, 2, 2, 3, 3])
    #expect(issues.probabilities.hasPrefix("2-fold"))
  }

  @Test("--pred-probs and --folds together are refused; a bad probability names file and line")
  func badLabelIssueInput() throws {
    let folder = makeTemporaryDirectory("audit")
    try writeAuditTables(folder)
    let both = run([
      "audit", folder + "/data.csv", "--shape", "4x4", "--folds", "2", "--pred-probs", "x.csv",
      "--out", folder + "/out",
    ])
    #expect(both.status != 0)
    try writeFile("row,source,p_0,p_1\n0,a,0.5,0.5\n", to: folder + "/short.csv")
    let short = run([
      "audit", folder + "/data.csv", "--shape", "4x4", "--pred-probs", folder + "/short.csv",
      "--out", folder + "/out",
    ])
    #expect(short.status == 65)
    #expect(short.errors.first?.contains("short.csv") == true)
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

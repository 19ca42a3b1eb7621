import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: data a model cannot learn from is named in the message")
struct TrainDataErrorTests {
  @Test("a split with no train rows: one line naming the split file and the data, exit 65")
  func emptyTrainRowsNameTheFiles() throws {
    let d = makeTemporaryDirectory()
    try ValueCommandTests.writePoints(d)
    try writeFile(#"{"train": [], "test": [0, 1]}"#, to: d + "/split.json")
    let outcome = run(["train", d + "/train.csv", "--split", d + "/split.json", "--model", "knn", "--out", d + "/m.glimpse"])
    #expect(outcome.status == ExitStatus.badInput)
    #expect(outcome.errors.last == "glimpse: error: \(d)/split.json: cannot train on its train rows of \(d)/train.csv: the dataset has no rows")
  }
}

@Suite("Console: every error line is one line")
struct OneLineTests {
  @Test("control characters in a line (a file named with a newline or an escape) are escaped; the rest is kept")
  func controlCharactersEscaped() {
    #expect(oneLine("dir/a\nb.png: unreadable") == "dir/a\\nb.png: unreadable")
    #expect(oneLine("x\u{1B}[31mred\u{0}") == "x\\x1B[31mred\\x00")
    #expect(oneLine("C:\\data\\é 28×28\u{2028}") == "C:\\data\\é 28×28\\u{2028}")
    #expect(oneLine("plain") == "plain")
  }
}

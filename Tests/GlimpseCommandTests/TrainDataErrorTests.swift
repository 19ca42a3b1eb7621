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
    let outcome = run([
      "train", d + "/train.csv", "--split", d + "/split.json", "--model", "knn", "--out",
      d + "/m.glimpse",
    ])
    #expect(outcome.status == ExitStatus.badInput)
    #expect(
      outcome.errors.last
        == "glimpse: error: \(d)/split.json: cannot train on its train rows of \(d)/train.csv: the dataset has no rows"
    )
  }
}

@Suite("Console: every error line is one line")
struct OneLineTests {
  @Test(
    "control characters in a line (a file named with a newline or an escape) are escaped; the rest is kept"
  )
  func controlCharactersEscaped() {
    #expect(oneLine("dir/a\nb.png: unreadable") == "dir/a\\nb.png: unreadable")
    #expect(oneLine("x\u{1B}[31mred\u{0}") == "x\\x1B[31mred\\x00")
    #expect(oneLine("C:\\data\\é 28×28\u{2028}") == "C:\\data\\é 28×28\\u{2028}")
    #expect(oneLine("plain") == "plain")
  }
}

@Suite("Command line: a blank label is refused, not read as a class named \"\"")
struct BlankLabelTests {
  @Test(
    "a blank label cell in the table or in the label table: one line naming the file and line, exit 65"
  )
  func blankLabelsRefused() throws {
    let d = makeTemporaryDirectory()
    try writeFile("a,b,label\n1,2, \n3,4,1\n5,6,0\n", to: d + "/own.csv")
    let own = run(["info", d + "/own.csv"])
    #expect(own.status == ExitStatus.badInput)
    #expect(
      own.errors.last
        == "glimpse: error: \(d)/own.csv:2: column 'label' is empty; every row needs a label")
    try writeFile("a,b\n1,2\n3,4\n5,6\n", to: d + "/features.csv")
    try writeFile(",label\n0,1\n1,0\n2,\n", to: d + "/labels.csv")
    let separate = run(["info", d + "/features.csv", "--labels", d + "/labels.csv"])
    #expect(separate.status == ExitStatus.badInput)
    #expect(
      separate.errors.last
        == "glimpse: error: \(d)/labels.csv:4: column 'label' is empty; every row needs a label")
  }

  @Test("two columns named 'label' are ambiguous: one line naming the file and the header line")
  func repeatedLabelColumnRefused() throws {
    let d = makeTemporaryDirectory()
    try writeFile("a,label,label\n1,0,1\n2,1,0\n", to: d + "/t.csv")
    let outcome = run(["info", d + "/t.csv"])
    #expect(outcome.status == ExitStatus.badInput)
    #expect(
      outcome.errors.last
        == "glimpse: error: \(d)/t.csv:1: the header names column 'label' twice; which one is meant?"
    )
  }
}

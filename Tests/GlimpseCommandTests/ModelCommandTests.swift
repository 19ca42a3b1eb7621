import Foundation
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: train, evaluate, predict")
struct ModelCommandTests {
  static let images = CommandTests.images
  static let labels = CommandTests.labels

  @Test("train with a split, evaluate, predict: files are written and well formed")
  func trainEvaluatePredict() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      #"{"train": [0, 1, 2, 500, 501, 502, 1000, 1001, 1002, 1003], "test": [3, 503, 1004]}"#,
      to: d + "/split.json")
    let model = d + "/svm.glimpse"
    #expect(
      run([
        "train", Self.images, "--labels", Self.labels, "--split", d + "/split.json", "--out", model,
      ]) == (0, []))
    #expect(
      run([
        "evaluate", model, Self.images, "--labels", Self.labels, "--split", d + "/split.json",
        "--confusion", d + "/c.png",
      ]) == (0, []))
    let confusion = try PNGCodec.decode(FileBytes.readRaw(d + "/c.png"))
    #expect(confusion.width > 300)
    #expect(
      run(["predict", model, TestPaths.samples + "/digits", "--out", d + "/p.csv"]) == (0, []))
    let table = try CSVReader.read(d + "/p.csv", textColumns: ["source", "predicted", "vote"])
    #expect(table.rowCount == 40)
    #expect(
      table.numericColumnNames == [
        "row", "p_0", "p_1", "p_2", "p_3", "p_4", "p_5", "p_6", "p_7", "p_8", "p_9",
      ])
    for row in 0..<40 {
      #expect(abs(table.values.row(row).dropFirst().reduce(0, +) - 1) < 1e-9)
    }
  }

  @Test(
    "train with --train-size holds out the other rows; a flat folder of images can be predicted")
  func trainSizeAndUnlabeledFolder() throws {
    let d = makeTemporaryDirectory()
    #expect(
      run([
        "export", Self.images, "--labels", Self.labels, "--to", d + "/small", "--per-class", "6",
      ]) == (0, []))
    #expect(
      run([
        "train", d + "/small", "--train-size", "40", "--out", d + "/m.glimpse", "--no-probability",
      ]) == (0, []))
    try FileManager.default.createDirectory(atPath: d + "/flat", withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: TestPaths.samples + "/digits/3/1500.png", toPath: d + "/flat/a.png")
    #expect(run(["predict", d + "/m.glimpse", d + "/flat", "--out", d + "/p.csv"]) == (0, []))
  }

  @Test("a model file that is not one, or data of another width, is one clear error line")
  func badModelFiles() throws {
    let d = makeTemporaryDirectory()
    try writeFile("definitely not a model", to: d + "/fake.glimpse")
    let fake = run(["evaluate", d + "/fake.glimpse", Self.images, "--labels", Self.labels])
    #expect(fake.status == ExitStatus.badInput)
    #expect(
      fake.errors == [
        "glimpse: error: \(d)/fake.glimpse: not a valid Glimpse model file: it does not start with the GLIMPSE magic bytes"
      ])
    #expect(
      run(["train", TestPaths.samples + "/digits", "--out", d + "/m.glimpse", "--no-probability"])
        .status == 0)
    try writeFile("a,b,label\n1,2,0\n3,4,1\n", to: d + "/narrow.csv")
    let narrow = run(["predict", d + "/m.glimpse", d + "/narrow.csv", "--out", d + "/p.csv"])
    #expect(narrow.status == ExitStatus.badInput)
    #expect(
      narrow.errors == [
        "glimpse: error: \(d)/narrow.csv: rows have 2 features, but \(d)/m.glimpse was trained on 784"
      ])
    let missing = run(["predict", d + "/none.glimpse", d + "/narrow.csv", "--out", d + "/p.csv"])
    #expect(missing.errors == ["glimpse: error: \(d)/none.glimpse: no such file or directory"])
    #expect(
      run([
        "train", Self.images, "--labels", Self.labels, "--out", d + "/x", "--train-size", "10",
        "--split", d + "/s.json",
      ]).status == 64)
  }
}

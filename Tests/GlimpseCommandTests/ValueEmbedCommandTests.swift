import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import GlimpseValuation
import Testing

@testable import glimpse

/// `value FOLDER --embed MODEL` (issue #21, item 4) and `value --flipped FILE`.
@Suite("Command line: value on a CNN's embeddings in one command")
struct ValueEmbedCommandTests {
  /// A folder of 6 shapes per class, a validation folder (one class at another size, brought
  /// to the training size as predict does), and a CNN trained for one epoch on the first.
  static func makeFolders(_ d: String) throws {
    try FlowsImages.writeFolder(d + "/train", perClass: 6, seed: 1, size: { _ in (16, 16) })
    try FlowsImages.writeFolder(
      d + "/valid", perClass: 3, seed: 2, size: { $0 == 0 ? (20, 20) : (16, 16) })
    #expect(
      run(["train", d + "/train", "--model", "cnn", "--epochs", "1", "--out", d + "/cnn.glimpse"])
        == (0, []))
  }

  static func table(_ path: String) throws -> (sources: [String], values: [Double]) {
    let table = try CSVReader.read(path, textColumns: ["source", "label", "stderr"])
    return (table.textColumns["source"] ?? [], (0..<table.rowCount).map { table.values[$0, 1] })
  }

  @Test(
    "value FOLDER --embed MODEL gives bit for bit the values of embed followed by value on the written tables (knn, data-oob with logistic)"
  )
  func oneStepEqualsTwoSteps() throws {
    let d = makeTemporaryDirectory()
    try Self.makeFolders(d)
    // Two mislabelled circles, so that the values differ from point to point.
    for i in 0..<2 {
      try FileManager.default.moveItem(
        atPath: d + "/train/circle/circle-\(i).png", toPath: d + "/train/square/flipped-\(i).png")
    }
    #expect(run(["embed", d + "/cnn.glimpse", d + "/train", "--out", d + "/emb.csv"]) == (0, []))
    #expect(
      run(["embed", d + "/cnn.glimpse", d + "/valid", "--out", d + "/emb-valid.csv"]) == (0, []))
    for method in [["--method", "knn", "--k", "3"], ["--method", "data-oob", "--bags", "12"]] {
      #expect(
        run(
          ["value", d + "/emb.csv", "--valid", d + "/emb-valid.csv", "--out", d + "/two.csv"]
            + method) == (0, []))
      #expect(
        run(
          [
            "value", d + "/train", "--valid", d + "/valid", "--embed", d + "/cnn.glimpse",
            "--out", d + "/one.csv",
          ] + method) == (0, []))
      let (one, two) = (try Self.table(d + "/one.csv"), try Self.table(d + "/two.csv"))
      #expect(one.values.count == 18)
      #expect(one.values == two.values, "\(method)")
      #expect(one.sources == two.sources)
      // Values that could not tell the points apart would make the comparison empty.
      #expect(Set(one.values).count > 1)
    }
  }

  @Test("the embedding line names the layer and its dimension; the sets keep labels and sources")
  func embeddingLine() throws {
    let d = makeTemporaryDirectory()
    try Self.makeFolders(d)
    let training = try DatasetReader.read(d + "/train").dataset
    let sets = ValuationSets(training: training, validation: training)
    let options = try ValuationEmbedOptions.parse(["--embed", d + "/cnn.glimpse"])
    let (embedded, line) = try options.apply(to: sets, dataPath: d + "/train")
    let dimension = embedded.training.featureCount
    #expect(dimension != training.featureCount)
    #expect(line?.contains("penultimate layer: the output of layer") == true)
    #expect(line?.contains("\(dimension) dimensions") == true)
    #expect(embedded.training.labels == training.labels)
    #expect(embedded.training.sources == training.sources)
    #expect(embedded.training.imageShape == nil)
  }

  @Test(
    "--embed with a model that has no embedding, or rows that are not images of any size: one error line; images of another size are resized"
  )
  func embedErrors() throws {
    let d = makeTemporaryDirectory()
    try Self.makeFolders(d)
    #expect(
      run(["train", d + "/train", "--model", "logistic", "--out", d + "/lr.glimpse"]) == (0, []))
    let notCNN = run([
      "value", d + "/train", "--valid", d + "/valid", "--embed", d + "/lr.glimpse", "--method",
      "knn", "--out", d + "/v.csv",
    ])
    #expect(notCNN.status == ExitStatus.badInput)
    #expect(notCNN.errors.count == 1)
    #expect(notCNN.errors.first?.contains("has no embedding") == true)
    // Rows that are not images the model can take (a table without an image shape).
    #expect(run(["embed", d + "/cnn.glimpse", d + "/train", "--out", d + "/emb.csv"]) == (0, []))
    let notImages = run([
      "value", d + "/emb.csv", "--valid", d + "/emb.csv", "--embed", d + "/cnn.glimpse",
      "--method", "knn", "--out", d + "/v.csv",
    ])
    #expect(notImages.status == ExitStatus.badInput)
    #expect(notImages.errors.count == 1)
    #expect(notImages.errors.first?.contains("features, but") == true)
    #expect(!FileManager.default.fileExists(atPath: d + "/v.csv"))
    // Images of another size are resized to the model's input, as embed resizes them.
    try FlowsImages.writeFolder(d + "/big", perClass: 3, seed: 3, size: { _ in (24, 24) })
    #expect(
      run([
        "value", d + "/big", "--valid", d + "/big", "--embed", d + "/cnn.glimpse", "--method",
        "knn", "--out", d + "/v.csv",
      ]) == (0, []))
    #expect(try Self.table(d + "/v.csv").values.count == 9)
  }

  @Test(
    "an imported network (.onnx) embeds too: value --embed model.onnx equals embed model.onnx followed by value, bit for bit"
  )
  func importedNetwork() throws {
    let d = makeTemporaryDirectory()
    let onnx = TestPaths.fixtures("GlimpseModelsTests") + "/onnx/seed.onnx"
    let digits = TestPaths.samples + "/digits"
    #expect(run(["embed", onnx, digits, "--out", d + "/emb.csv"]).status == 0)
    let embedded = try DatasetReader.read(d + "/emb.csv").dataset
    #expect(embedded.featureCount > 0 && embedded.featureCount != 784)
    let method = ["--method", "knn", "--k", "3"]
    #expect(
      run(["value", d + "/emb.csv", "--valid", d + "/emb.csv", "--out", d + "/two.csv"] + method)
        .status == 0)
    #expect(
      run(
        ["value", digits, "--valid", digits, "--embed", onnx, "--out", d + "/one.csv"] + method
      )
      .status == 0)
    let (one, two) = (try Self.table(d + "/one.csv"), try Self.table(d + "/two.csv"))
    #expect(one.values.count == embedded.count)
    #expect(one.values == two.values)
    #expect(Set(one.values).count > 1)
  }

  @Test("--flipped names points by source suffix; a name that matches no point is an error")
  func flippedFile() throws {
    let d = makeTemporaryDirectory()
    try FlowsImages.writeFolder(d + "/train", perClass: 4, seed: 1, size: { _ in (8, 8) })
    let training = try DatasetReader.read(d + "/train").dataset
    let first = training.sources[0]
    let tail = first.split(separator: "/").suffix(2).joined(separator: "/")
    try writeFile("\(tail)\r\n\n", to: d + "/flipped.txt")
    var options = try ValuationDataOptions.parse([
      d + "/train", "--valid", d + "/train", "--flipped", d + "/flipped.txt",
    ])
    let sets = try options.load(needValidation: true)
    #expect(sets.flipped == training.sources.indices.map { $0 == 0 })
    try writeFile("\(tail)\nno-such.png\n", to: d + "/flipped.txt")
    options = try ValuationDataOptions.parse([
      d + "/train", "--valid", d + "/train", "--flipped", d + "/flipped.txt",
    ])
    #expect(throws: CommandFailure.self) { _ = try options.load(needValidation: true) }
    let outcome = run([
      "value", d + "/train", "--valid", d + "/train", "--flipped", d + "/flipped.txt", "--method",
      "knn", "--out", d + "/v.csv",
    ])
    #expect(outcome.status == ExitStatus.badInput)
    #expect(
      outcome.errors == [
        "glimpse: error: \(d)/flipped.txt:2: 'no-such.png' names no training point of \(d)/train"
      ])
  }
}

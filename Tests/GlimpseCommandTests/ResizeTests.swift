import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// `predict`, `evaluate` and `ambiguous` bring images to the model's input shape, as `explain`
/// does for one image.
@Suite("Command line: images resized to the model's input")
struct ResizeTests {
  /// A logistic model trained on 8×8 grey images of the three shape classes.
  static func greyModel(_ d: String) throws -> String {
    try FlowsImages.writeFolder(d + "/train", perClass: 6, seed: 1, size: { _ in (8, 8) })
    let model = d + "/grey8.glimpse"
    #expect(
      run(["train", d + "/train", "--gray", "--model", "logistic", "--out", model]) == (0, []))
    return model
  }

  @Test(
    "predict on 24×24 colour images with an 8×8 grey model equals predict on the same images read at 8×8 grey"
  )
  func predictResizesLikeTheReader() throws {
    let d = makeTemporaryDirectory()
    let model = try Self.greyModel(d)
    try FlowsImages.writeFolder(d + "/big", perClass: 4, seed: 2, size: { _ in (24, 24) })
    #expect(run(["predict", model, d + "/big", "--out", d + "/auto.csv"]) == (0, []))
    #expect(
      run(["predict", model, d + "/big", "--size", "8x8", "--gray", "--out", d + "/given.csv"]) == (
        0, []
      ))
    let auto = try String(contentsOfFile: d + "/auto.csv", encoding: .utf8)
    #expect(auto == (try String(contentsOfFile: d + "/given.csv", encoding: .utf8)))
    #expect(auto.split(separator: "\n").count == 13)
  }

  @Test("evaluate and ambiguous run on a folder of mixed sizes (24×24 and 13×19) without --size")
  func evaluateAndAmbiguousOnMixedSizes() throws {
    let d = makeTemporaryDirectory()
    let model = try Self.greyModel(d)
    try FlowsImages.writeFolder(
      d + "/mixed", perClass: 4, seed: 3, size: { $0 % 2 == 0 ? (24, 24) : (13, 19) })
    #expect(run(["evaluate", model, d + "/mixed", "--confusion", d + "/c.png"]) == (0, []))
    #expect(run(["ambiguous", model, d + "/mixed", "--all", "--out", d + "/a.csv"]) == (0, []))
    let lines = try String(contentsOfFile: d + "/a.csv", encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 13)
  }

  @Test("a grey model reads colour tables with an image shape; a colour model reads grey images")
  func channelsConvertBothWays() throws {
    let d = makeTemporaryDirectory()
    // A colour 8×8 model, asked about a grey 16×16 folder.
    try FlowsImages.writeFolder(d + "/train", perClass: 6, seed: 4, size: { _ in (8, 8) })
    #expect(run(["train", d + "/train", "--model", "knn", "--out", d + "/rgb.glimpse"]) == (0, []))
    try FlowsImages.writeFolder(d + "/grey", perClass: 2, seed: 5, size: { _ in (16, 16) })
    #expect(
      run(["predict", d + "/rgb.glimpse", d + "/grey", "--gray", "--out", d + "/p.csv"]) == (0, []))
    // The grey model on a 12×12×3 table (432 columns, shape given).
    let model = try Self.greyModel(d + "/g")
    var text = (0..<432).map { "f\($0)" }.joined(separator: ",") + ",label\n"
    for row in 0..<3 {
      text +=
        (0..<432).map { String(($0 * 7 + row * 13) % 256) }.joined(separator: ",") + ",circle\n"
    }
    try writeFile(text, to: d + "/t.csv")
    #expect(
      run(["evaluate", model, d + "/t.csv", "--shape", "12x12x3", "--confusion", d + "/c.png"]) == (
        0, []
      ))
  }

  @Test(
    "a table whose rows are not images and whose width differs: one line naming the file and both widths"
  )
  func nonImageTableOfTheWrongWidth() throws {
    let d = makeTemporaryDirectory()
    let model = try Self.greyModel(d)
    try writeFile("a,b,c,d,e,label\n1,2,3,4,5,circle\n2,3,4,5,6,square\n", to: d + "/points.csv")
    for command in ["predict", "evaluate", "ambiguous"] {
      let outcome = run(
        [command, model, d + "/points.csv", "--out", d + "/o.csv"].filter {
          command != "evaluate" || ($0 != "--out" && $0 != d + "/o.csv")
        })
      #expect(outcome.status == ExitStatus.badInput)
      #expect(
        outcome.errors == [
          "glimpse: error: \(d)/points.csv: rows have 5 features, but \(model) was trained on 64"
        ])
    }
  }
}

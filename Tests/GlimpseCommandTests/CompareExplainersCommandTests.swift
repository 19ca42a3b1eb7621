import Foundation
import GlimpseCore
import GlimpseData
import GlimpseReport
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: compare-explainers and explain --explainer occlusion")
struct CompareExplainersCommandTests {
  func model(in d: String) -> String {
    let path = d + "/svm.glimpse"
    #expect(run(["train", TestPaths.samples + "/digits", "--out", path]) == (0, []))
    return path
  }

  @Test(
    "compare-explainers writes a PNG, a sidecar with every method's map, curves and ranks (deletion ranks by increasing AUC, insertion by decreasing) and a CSV ranking"
  )
  func comparison() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    let out = d + "/c.png"
    #expect(
      run([
        "compare-explainers", model, "--image", TestPaths.samples + "/digits/3/1500.png",
        "--samples", "60", "--segmenter", "grid:4", "--segmenter", "slic:25:0.1", "--window", "4",
        "--stride", "2x3", "--hide-color", "0", "--out", out,
      ]) == (0, []))
    let png = try PNGCodec.decode(FileBytes.readRaw(out))
    #expect(png.width >= 4 * 120 && png.height > 200)
    let sidecar = try JSONDecoder().decode(
      ExplainerComparisonSidecar.self, from: Data(FileBytes.readRaw(d + "/c.json")))
    #expect(sidecar.methods.map(\.name) == ["lime", "kernelshap", "occlusion"])
    #expect(sidecar.methods.allSatisfy { $0.map?.count == 784 && $0.faithfulness != nil })
    #expect(sidecar.fillValues == [0])
    #expect(sidecar.methods[2].settings.hasPrefix("window 4×4, stride 2×3"))
    let deletion = sidecar.deletionRanking.compactMap { name in
      sidecar.methods.first { $0.name == name }?.faithfulness?.deletionAUC
    }
    let insertion = sidecar.insertionRanking.compactMap { name in
      sidecar.methods.first { $0.name == name }?.faithfulness?.insertionAUC
    }
    #expect(deletion.count == 3 && deletion == deletion.sorted())
    #expect(insertion.count == 3 && insertion == insertion.sorted(by: >))
    // 32 steps of ⌈784/32⌉ = 25 pixels: 33 points from the image to the filled image.
    #expect(sidecar.methods[0].faithfulness?.fractions.count == 33)
    let csv = String(decoding: try FileBytes.readRaw(d + "/c.csv"), as: UTF8.self)
    #expect(csv.split(separator: "\n").count == 4)
    #expect(csv.hasPrefix("method,deletion_auc,insertion_auc"))
  }

  @Test("explain --explainer occlusion writes the one-method figure and its sidecar")
  func explainOcclusion() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    #expect(
      run([
        "explain", model, "--image", TestPaths.samples + "/digits/7/3500.png", "--explainer",
        "occlusion", "--window", "3x3", "--stride", "1", "--occlusion-fill", "mean", "--out",
        d + "/o.png",
      ]) == (0, []))
    #expect(try PNGCodec.decode(FileBytes.readRaw(d + "/o.png")).width >= 2 * 120)
    let sidecar = try JSONDecoder().decode(
      ExplainerComparisonSidecar.self, from: Data(FileBytes.readRaw(d + "/o.json")))
    #expect(sidecar.methods.map(\.name) == ["occlusion"])
    #expect(sidecar.fill == "mean" && sidecar.fillValues.count == 1)
    #expect(!FileManager.default.fileExists(atPath: d + "/o.csv"))
  }

  @Test(
    "bad input is one line and a usage status: a zero window, an unknown method, a gradient map of an SVM, a bad baseline, an unknown class, occlusion in explain-batch"
  )
  func badInput() throws {
    let d = makeTemporaryDirectory()
    let model = model(in: d)
    let image = TestPaths.samples + "/digits/3/1500.png"
    for arguments in [
      ["compare-explainers", model, "--image", image, "--window", "0x3"],
      ["compare-explainers", model, "--image", image, "--methods", "lime,gradient"],
      ["explain", model, "--image", image, "--explainer", "gradcam"],
      ["compare-explainers", model, "--image", image, "--ig-baseline", "grey"],
      ["compare-explainers", model, "--image", image, "--occlusion-fill", "grey"],
      ["compare-explainers", model, "--image", image, "--class", "eleven"],
      [
        "explain-batch", model, "--folder", TestPaths.samples + "/digits", "--explainer",
        "occlusion",
        "--out", d + "/b",
      ],
    ] {
      let result = run(arguments)
      #expect(result.status == ExitStatus.usage, "\(arguments)")
      #expect(result.errors.count == 1, "\(arguments): \(result.errors)")
    }
    #expect(!FileManager.default.fileExists(atPath: d + "/b/index.html"))
  }

  @Test(
    "a Glimpse CNN's comparison adds Grad-CAM, Integrated Gradients and saliency by default, each with a map and curves; an SVM's asked-for gradient map fails alone"
  )
  func gradientMaps() throws {
    let d = makeTemporaryDirectory()
    let cnn = d + "/cnn.glimpse"
    #expect(
      run(["train", TestPaths.samples + "/digits", "--model", "cnn", "--epochs", "1", "--out", cnn])
        == (0, []))
    let image = TestPaths.samples + "/digits/3/1500.png"
    #expect(
      run([
        "compare-explainers", cnn, "--image", image, "--samples", "40", "--segmenter", "grid:4",
        "--window", "7", "--ig-steps", "8", "--out", d + "/c.png",
      ]) == (0, []))
    let sidecar = try JSONDecoder().decode(
      ExplainerComparisonSidecar.self, from: Data(FileBytes.readRaw(d + "/c.json")))
    #expect(
      sidecar.methods.map(\.name) == [
        "lime", "kernelshap", "occlusion", "gradcam", "integrated-gradients", "saliency",
      ])
    #expect(sidecar.methods.allSatisfy { $0.map?.count == 784 && $0.failure == nil })
    #expect(sidecar.deletionRanking.count == 6)
    #expect(sidecar.methods[4].settings.hasPrefix("8 steps"))

    #expect(
      run([
        "explain", cnn, "--image", image, "--explainer", "integrated-gradients", "--ig-baseline",
        "mean", "--out", d + "/ig.png",
      ]) == (0, []))
    let one = try JSONDecoder().decode(
      ExplainerComparisonSidecar.self, from: Data(FileBytes.readRaw(d + "/ig.json")))
    #expect(one.methods.map(\.name) == ["integrated-gradients"])
    #expect(one.methods[0].settings.hasSuffix("from mean"))

    let svm = model(in: d)
    #expect(
      run([
        "compare-explainers", svm, "--image", image, "--samples", "40", "--segmenter", "grid:4",
        "--methods", "lime,saliency", "--out", d + "/s.png",
      ]).status == 0)
    let mixed = try JSONDecoder().decode(
      ExplainerComparisonSidecar.self, from: Data(FileBytes.readRaw(d + "/s.json")))
    #expect(mixed.methods[0].failure == nil && mixed.methods[1].failure != nil)
    #expect(mixed.deletionRanking == ["lime"])
  }

  @Test(
    "compare-explainers refuses --explainer and --no-faithfulness in one line each (it would ignore them) and writes nothing"
  )
  func refusesIgnoredOptions() {
    let d = makeTemporaryDirectory()
    let image = TestPaths.samples + "/digits/3/1500.png"
    for (flags, word) in [
      (["--explainer", "kernelshap"], "--methods"), (["--no-faithfulness"], "curves"),
    ] {
      let outcome = run(
        ["compare-explainers", d + "/none.glimpse", "--image", image, "--out", d + "/c.png"] + flags
      )
      #expect(outcome.status != 0)
      #expect(outcome.errors.count == 1 && outcome.errors.first?.contains(word) == true)
      #expect(!FileManager.default.fileExists(atPath: d + "/c.png"))
    }
  }
}

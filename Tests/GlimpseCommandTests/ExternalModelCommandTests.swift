import Foundation
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseReport
import GlimpseTestSupport
import Testing

@testable import glimpse

/// A MODEL that is an ONNX file, or a command (`cmd:`), through the commands.
@Suite("Command line: ONNX files and model commands as MODEL")
struct ExternalModelCommandTests {
  static let onnx = TestPaths.fixtures("GlimpseModelsTests") + "/onnx/seed.onnx"

  @Test("an .onnx file (or ONNX bytes under another name) predicts as its imported model file")
  func onnxDirectly() throws {
    let d = makeTemporaryDirectory()
    #expect(run(["import", Self.onnx, "--out", d + "/seed.glimpse"]) == (0, []))
    try writeFile(FileBytes.readRaw(Self.onnx), to: d + "/seed.bin")
    for model in [d + "/seed.glimpse", Self.onnx, d + "/seed.bin"] {
      let name = AtomicFile.lastComponent(of: model)
      #expect(
        run(["predict", model, TestPaths.samples + "/digits", "--out", d + "/\(name).csv"])
          == (0, []))
    }
    let reference = try FileBytes.readRaw(d + "/seed.glimpse.csv")
    #expect(try FileBytes.readRaw(d + "/seed.onnx.csv") == reference)
    #expect(try FileBytes.readRaw(d + "/seed.bin.csv") == reference)
  }

  @Test("a broken .onnx file is one line naming it")
  func brokenONNX() throws {
    let d = makeTemporaryDirectory()
    try writeFile([0x08, 0x07, 0x12, 0xff, 0xff], to: d + "/bad.onnx")
    let result = run([
      "predict", d + "/bad.onnx", TestPaths.samples + "/digits", "--out", d + "/p.csv",
    ])
    #expect(result.status == ExitStatus.badInput)
    #expect(result.errors.count == 1 && result.errors[0].contains("\(d)/bad.onnx: "), "\(result)")
  }
}

/// Model commands through the CLI: the standard-library server of samples/models.
@Suite(
  "Command line: cmd:COMMAND models", .enabled(if: ExternalModelFixture.hasPython, "needs python3"))
struct CommandModelCLITests {
  /// A folder of 8×8 colour images, the logistic model as a Glimpse file and as JSON.
  static func setUp() throws -> (d: String, file: String, json: String, images: [String]) {
    let d = makeTemporaryDirectory()
    let (model, json) = try ExternalModelFixture.logistic(in: d)
    var archive = model.archive()
    archive.imageShape = ImageShape(height: 8, width: 8, channels: 3)
    try writeFile(archive.encoded(), to: d + "/logistic.glimpse")
    let images = try FlowsImages.writeFolder(
      d + "/images", perClass: 2, size: { _ in (8, 8) })
    return (d, d + "/logistic.glimpse", json, images)
  }

  static func spec(_ json: String, fault: String? = nil) -> String {
    "cmd:" + ExternalModelFixture.command(json, fault: fault)
  }

  static func csvValues(_ path: String) throws -> [[String]] {
    String(decoding: try FileBytes.readRaw(path), as: UTF8.self).split(separator: "\n").map {
      $0.split(separator: ",").map(String.init)
    }
  }

  @Test("predict through a command gives the in-process model's probabilities and classes")
  func predict() throws {
    let (d, file, json, _) = try Self.setUp()
    #expect(run(["predict", file, d + "/images", "--out", d + "/local.csv"]) == (0, []))
    #expect(
      run([
        "predict", Self.spec(json), d + "/images", "--out", d + "/remote.csv",
        "--model-batch-size", "4",
      ]) == (0, []))
    let local = try Self.csvValues(d + "/local.csv")
    let remote = try Self.csvValues(d + "/remote.csv")
    #expect(local.count == 7 && remote.count == 7)
    #expect(local[0] == remote[0])
    for (a, b) in zip(local.dropFirst(), remote.dropFirst()) {
      #expect(a[a.count - 1] == b[b.count - 1])
      for column in 2..<(a.count - 1) {
        #expect(abs(Double(a[column])! - Double(b[column])!) < 1e-6)
      }
    }
  }

  @Test("LIME through a command gives the same explanation as the same model in-process")
  func explainSame() throws {
    let (d, file, json, images) = try Self.setUp()
    let common = ["--image", images[0], "--samples", "300", "--segmenter", "grid:4", "--seed", "3"]
    #expect(run(["explain", file, "--out", d + "/local.png"] + common) == (0, []))
    #expect(run(["explain", Self.spec(json), "--out", d + "/remote.png"] + common) == (0, []))
    let local = try loadJSON(ExplanationSidecar.self, from: d + "/local.json")
    let remote = try loadJSON(ExplanationSidecar.self, from: d + "/remote.json")
    #expect(remote.model.kind == "command")
    #expect(local.explained == remote.explained)
    #expect(local.segmenters.count == remote.segmenters.count)
    for (a, b) in zip(local.segmenters, remote.segmenters) {
      #expect(a.segments == b.segments)
      #expect(maxAbsoluteDifference(a.weights.flatMap { $0 }, b.weights.flatMap { $0 }) < 1e-4)
    }
    for (name, p) in local.probabilities {
      #expect(abs(p - (remote.probabilities[name] ?? -1)) < 1e-6)
    }
  }

  @Test("a crash, a hang, an answer of the wrong shape: exit 1 and one line")
  func failures() throws {
    let (d, _, json, _) = try Self.setUp()
    for (fault, timeout, expected) in [
      ("crash@2", "30", "exited with status 3 during batch 2"),
      ("hang", "1", "gave no answer within 1 s (--model-timeout)"),
      ("shape", "30", "answer has shape 2×2, expected 2×3"),
    ] {
      let result = run([
        "predict", Self.spec(json, fault: fault), d + "/images", "--out", d + "/p.csv",
        "--model-batch-size", "2", "--model-timeout", timeout,
      ])
      #expect(result.status == ExitStatus.failure)
      #expect(result.errors.count == 1, "\(result.errors)")
      #expect(result.errors.first?.contains(expected) == true, "\(result.errors)")
      #expect(!FileManager.default.fileExists(atPath: d + "/p.csv"))
    }
  }

  @Test("explain-batch lists every item the failed command could not score and exits non-zero")
  func batchDoesNotSkipSilently() throws {
    let (d, _, json, images) = try Self.setUp()
    let result = run([
      "explain-batch", Self.spec(json, fault: "crash@3"), "--folder", d + "/images", "--out",
      d + "/out", "--samples", "100", "--segmenter", "grid:2", "--batch-size", "50",
    ])
    #expect(result.status == ExitStatus.partial)
    let listed = String(decoding: try FileBytes.readRaw(d + "/out/skipped.txt"), as: UTF8.self)
      .split(separator: "\n")
    #expect(!listed.isEmpty)
    #expect(listed.allSatisfy { $0.contains("exited with status 3") }, "\(listed)")
    let written = try FileManager.default.contentsOfDirectory(atPath: d + "/out").filter {
      $0.hasSuffix(".png")
    }
    #expect(written.count + listed.count == images.count)
  }
}

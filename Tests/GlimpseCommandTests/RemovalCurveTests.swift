import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// `value --removal-curve` retrains the valuation's own model family unless told otherwise.
@Suite("Command line: removal curve model, --seconds")
struct RemovalCurveTests {
  static func parse(_ extra: [String]) throws -> ValueRunCommand {
    try ValueRunCommand.parse(["train.csv", "--valid", "valid.csv", "--out", "v.csv"] + extra)
  }

  @Test("a knn valuation's removal curve retrains knn with its k; --curve-model chooses another")
  func curveModelFollowsTheValuation() throws {
    let knn = try Self.parse(["--method", "knn", "--k", "3"]).curveFamily
    #expect(knn.kind == .knn)
    #expect(knn.k == 3)
    #expect(knn.summary == "knn (k=3)")
    let tmc = try Self.parse(["--method", "tmc", "--model", "svm", "--c", "2"]).curveFamily
    #expect(tmc.kind == .svm)
    #expect(tmc.c == 2)
    let chosen = try Self.parse(["--method", "knn", "--curve-model", "logistic"]).curveFamily
    #expect(chosen.kind == .logistic)
  }

  @Test("value --method knn --removal-curve on points draws the curve")
  func knnRemovalCurveRuns() throws {
    let d = makeTemporaryDirectory()
    try ValueCommandTests.writePoints(d)
    #expect(
      run([
        "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", "knn", "--k", "3",
        "--out", d + "/v.csv", "--removal-curve", d + "/curve.png",
      ]) == (0, []))
    let png = try PNGCodec.decode(FileBytes.readRaw(d + "/curve.png"))
    #expect(png.width > 300)
  }

  @Test(
    "--seconds with a method that has no partial answer (loo, exact, knn) is refused, not ignored",
    arguments: ["loo", "exact", "knn"])
  func secondsRefusedWhereItCannotStop(method: String) throws {
    let outcome = run([
      "value", "train.csv", "--valid", "valid.csv", "--method", method, "--seconds", "5", "--out",
      "v.csv",
    ])
    #expect(outcome.status == 64)
    #expect(outcome.errors.contains { $0.contains("--seconds") && $0.contains(method) })
  }
}

import ArgumentParser
import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: one convention everywhere")
struct ConventionsTests {
  @Test("--shard k/n counts from 0 in explain-batch as in value: 0/2 and 1/2 cover every item once")
  func shardsCountFromZero() throws {
    #expect(Shard(argument: "0/2") != nil)
    #expect(Shard(argument: "1/2") != nil)
    #expect(Shard(argument: "0/1") != nil)
    for bad in ["2/2", "-1/2", "1/0", "3/2", "a/b", "1", "1/2/3", "/2", "1/"] {
      #expect(Shard(argument: bad) == nil, "\(bad)")
      #expect(parseShard(bad) == nil, "value --shard \(bad)")
    }
    let shards = try (0..<3).map { try #require(Shard(argument: "\($0)/3")) }
    for position in 0..<20 {
      #expect(shards.filter { $0.contains(position) }.count == 1)
    }
    #expect(
      shards[0].contains(0) && shards[1].contains(1) && shards[2].contains(2)
        && shards[0].contains(3))
    // The same k/n is the same shard for value and explain-batch.
    #expect(parseShard("1/3")?.index == shards[1].index)
  }

  @Test("explain-batch refuses --shard n/n (1-based) as a usage error")
  func oneBasedShardRefused() {
    let outcome = run(["explain-batch", "m.glimpse", "--folder", "/tmp", "--shard", "2/2"])
    #expect(outcome.status == ExitStatus.usage)
  }

  @Test(
    "help for an unknown command, or --help after one, exits 64 with one 'unknown command' line",
    arguments: [
      ["help", "nope"], ["nope", "--help"], ["nope", "-h"], ["nope"], ["help", "value", "nope"],
      ["help", "info", "extra"],
    ])
  func unknownCommand(arguments: [String]) {
    let outcome = run(arguments)
    #expect(outcome.status == 64)
    #expect(outcome.errors.count == 1)
    #expect(outcome.errors.first?.hasPrefix("glimpse: error: unknown command '") == true)
    #expect(outcome.errors.first?.contains("\n") == false)
  }

  @Test(
    "help for known commands still exits 0",
    arguments: [
      ["help"], ["help", "train"], ["help", "value", "merge"], ["explain-batch", "--help"],
      ["gallery", "-h"],
    ])
  func knownHelp(arguments: [String]) {
    #expect(run(arguments) == (0, []))
  }

  @Test("train --help names every model, cnn included")
  func trainHelpListsEveryModel() {
    let help = Glimpse.helpMessage(for: TrainCommand.self, columns: 2000)
    for model in ModelName.allCases {
      #expect(
        help.contains("\(model.rawValue),") || help.contains("\(model.rawValue) ("),
        "\(model.rawValue)")
    }
    #expect(help.contains("cnn, a small convolutional network"))
    #expect(help.contains("knn, cnn (images only)"))
  }

  @Test("glimpse --help documents the exit statuses, the H×W order and 0-based shards")
  func rootHelpDocumentsConventions() {
    let help = Glimpse.helpMessage(columns: 2000)
    for status in [
      "0 success", "1 the command failed", "3 partial", "64 usage error", "65 bad input",
    ] {
      #expect(help.contains(status), "\(status)")
    }
    #expect(help.contains("height × width"))
    #expect(help.contains("counts from 0"))
    let batch = Glimpse.helpMessage(for: ExplainBatchCommand.self, columns: 2000)
    #expect(batch.contains("counted from 0"))
    #expect(batch.contains("exits with status 3"))
    let reading = Glimpse.helpMessage(for: InfoCommand.self, columns: 2000)
    #expect(reading.contains("height × width × channels"))
    #expect(reading.contains("height × width (antialiased"))
  }

  @Test("info prints the image size once, saying which side is the height")
  func infoSaysHeightByWidth() {
    let dataset = Dataset(
      features: Matrix(rows: 2, columns: 6, storage: [Double](repeating: 0.5, count: 12)),
      labels: [0, 1], classNames: ["a", "b"], imageShape: ImageShape(height: 2, width: 3),
      sources: ["r0", "r1"])
    let lines = DatasetSummary.lines(dataset, name: "d")
    #expect(lines.contains("  features: 6 (images 2×3 (H×W), 1 channel)"))
    #expect(lines.filter { $0.contains("H×W") }.count == 1)
  }
}

@Suite("Command line: explain-batch arguments")
struct ExplainBatchArgumentTests {
  @Test(
    "explain-batch on a missing folder, or a file given as --folder, is one error line (not an empty success)"
  )
  func missingFolder() throws {
    let d = makeTemporaryDirectory()
    #expect(run(["train", TestPaths.samples + "/digits", "--out", d + "/m.glimpse"]) == (0, []))
    let missing = run([
      "explain-batch", d + "/m.glimpse", "--folder", d + "/nope", "--out", d + "/out",
    ])
    #expect(missing.status == ExitStatus.badInput)
    #expect(missing.errors == ["glimpse: error: \(d)/nope: no such file or directory"])
    let file = run([
      "explain-batch", d + "/m.glimpse", "--folder", d + "/m.glimpse", "--out", d + "/out",
    ])
    #expect(file.status == ExitStatus.badInput)
    #expect(
      file.errors == [
        "glimpse: error: \(d)/m.glimpse: not a directory (--folder takes a folder of images)"
      ])
    #expect(
      run(["explain-batch", d + "/m.glimpse", "--folder", d, "--limit", "-1"]).status
        == ExitStatus.usage)
    #expect(
      run(["gallery", d + "/nope"]) == (
        ExitStatus.badInput, ["glimpse: error: \(d)/nope: no such file or directory"]
      ))
    #expect(!FileManager.default.fileExists(atPath: d + "/nope"))
  }
}

import Foundation
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: batches skip, list and exit 3")
struct BatchTests {
  /// A small SVM on the sample folder.
  static func model(in d: String) -> String {
    let path = d + "/svm.glimpse"
    #expect(run(["train", TestPaths.samples + "/digits", "--out", path]) == (0, []))
    return path
  }

  /// `count` sample digits as in/a/<i>.png (then in/b/...), plus in/b/bad.png, which is corrupt.
  static func folder(in d: String, count: Int) throws -> String {
    let folder = d + "/in"
    let digits = [
      "0/0000.png", "3/1500.png", "7/3500.png", "1/0500.png", "9/4500.png", "5/2500.png",
      "2/1000.png", "8/4000.png",
    ]
    for i in 0..<count {
      let target = folder + (i < count / 2 ? "/a" : "/b") + "/\(i).png"
      try writeFile(
        FileBytes.readRaw(TestPaths.samples + "/digits/" + digits[i % digits.count]), to: target)
    }
    try writeFile([0x89, 0x50, 0x4E, 0x47, 9, 9], to: folder + "/b/bad.png")
    return folder
  }

  static let common = ["--samples", "30", "--segmenter", "grid:4"]

  static func files(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
  }

  /// Every PNG of an explanation folder has its sidecar.
  static func everyPNGHasItsSidecar(_ folder: String) -> Bool {
    let names = Set(files(folder))
    // Only files: a test may put a directory where a PNG should go.
    return names.filter { $0.hasSuffix(".png") && !isDirectoryPath(folder + "/" + $0) }.allSatisfy {
      names.contains(String($0.dropLast(4)) + ".json")
    }
  }

  @Test(
    "explain-batch skips an item whose PNG or sidecar cannot be written, goes on, lists it and exits 3; no PNG without its sidecar"
  )
  func unwritableItemsAreSkipped() throws {
    let d = makeTemporaryDirectory()
    let model = Self.model(in: d)
    let folder = try Self.folder(in: d, count: 4)
    let out = d + "/out"
    // Items are named <stem>-<position> in sorted order: a/0.png → 0-0, a/1.png → 1-1, b/2.png
    // → 2-2, b/3.png → 3-3, b/bad.png → bad-4. A directory where a file should go makes that
    // write fail, as a full disk would: 0-0's sidecar (an old PNG of it is there), 2-2's PNG.
    try FileManager.default.createDirectory(
      atPath: out + "/0-0.json/x", withIntermediateDirectories: true)
    try writeFile("old", to: out + "/0-0.png")
    try FileManager.default.createDirectory(
      atPath: out + "/2-2.png/x", withIntermediateDirectories: true)
    let outcome = run(["explain-batch", model, "--folder", folder, "--out", out] + Self.common)
    #expect(outcome.status == ExitStatus.partial)
    #expect(
      outcome.errors == [
        "glimpse: skipped 3 items, listed above and in \(out)/skipped.txt; exit status 3 (partial)"
      ])
    let names = Self.files(out)
    #expect(names.contains("1-1.png") && names.contains("1-1.json"))
    #expect(names.contains("3-3.png") && names.contains("3-3.json"))
    #expect(!names.contains("0-0.png"))  // the stale PNG went with the failed sidecar
    #expect(!names.contains("2-2.json"))  // the sidecar went with the failed PNG
    #expect(!names.contains { $0.hasPrefix(".") })  // no temporary files left
    #expect(Self.everyPNGHasItsSidecar(out))
    let listed = String(decoding: try FileBytes.readRaw(out + "/skipped.txt"), as: UTF8.self)
      .split(separator: "\n").map(String.init)
    #expect(listed.count == 3)
    #expect(
      listed[0].hasPrefix(
        "\(folder)/a/0.png: its explanation could not be written: \(out)/0-0.json"))
    #expect(
      listed[1].hasPrefix("\(folder)/b/2.png: its explanation could not be written: \(out)/2-2.png")
    )
    #expect(listed[2].hasPrefix("\(folder)/b/bad.png: "))
    let html = String(decoding: try FileBytes.readRaw(out + "/index.html"), as: UTF8.self)
    #expect(html.contains("2 explanations"))

    // Once the obstacles are gone, a rerun explains everything but the corrupt file.
    try FileManager.default.removeItem(atPath: out + "/0-0.json")
    try FileManager.default.removeItem(atPath: out + "/2-2.png")
    let again = run(["explain-batch", model, "--folder", folder, "--out", out] + Self.common)
    #expect(again.status == ExitStatus.partial)
    #expect(
      again.errors.last
        == "glimpse: skipped 1 item, listed above and in \(out)/skipped.txt; exit status 3 (partial)"
    )
    #expect(Self.files(out).filter { $0.hasSuffix(".png") }.count == 4)
  }

  @Test(
    "explain-batch shards 0/2 and 1/2 cover every item once; each shard lists its own skipped items"
  )
  func shardsCoverEverything() throws {
    let d = makeTemporaryDirectory()
    let model = Self.model(in: d)
    let folder = try Self.folder(in: d, count: 3)
    let out = d + "/out"
    // Sorted: a/0.png, b/1.png, b/2.png, b/bad.png: shard 0 takes 0 and 2, shard 1 takes 1 and bad.
    let first = run(
      ["explain-batch", model, "--folder", folder, "--out", out, "--shard", "0/2"] + Self.common)
    #expect(first == (0, []))
    let second = run(
      ["explain-batch", model, "--folder", folder, "--out", out, "--shard", "1/2"] + Self.common)
    #expect(second.status == ExitStatus.partial)
    #expect(
      second.errors == [
        "glimpse: skipped 1 item, listed above and in \(out)/skipped-1-of-2.txt; exit status 3 (partial)"
      ])
    let names = Self.files(out)
    #expect(names.filter { $0.hasSuffix(".png") } == ["0-0.png", "1-1.png", "2-2.png"])
    #expect(names.filter { $0.hasPrefix("skipped") } == ["skipped-1-of-2.txt"])
    #expect(run(["gallery", out]) == (0, []))
  }

  @Test(
    "a full disk (a 200 KB tmpfs) fails items quickly, one by one; every PNG written has its sidecar"
  )
  func fullDisk() throws {
    let d = makeTemporaryDirectory()
    let out = d + "/out"
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    func system(_ arguments: [String]) -> Int32 {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = arguments
      process.standardError = FileHandle.nullDevice
      guard (try? process.run()) != nil else { return -1 }
      process.waitUntilExit()
      return process.terminationStatus
    }
    // Only where mounting is allowed (root); elsewhere the directory tests above stand in.
    guard getuid() == 0, system(["mount", "-t", "tmpfs", "-o", "size=200k", "none", out]) == 0
    else { return }
    defer { _ = system(["umount", out]) }
    let model = Self.model(in: d)
    let folder = try Self.folder(in: d, count: 8)
    let outcome = run(["explain-batch", model, "--folder", folder, "--out", out] + Self.common)
    // The batch ran to the end: partial when the gallery fit, else the gallery's write error.
    #expect(outcome.status == ExitStatus.partial || outcome.status == ExitStatus.badInput)
    if outcome.status == ExitStatus.badInput {
      #expect(outcome.errors.last?.hasPrefix("glimpse: error: \(out)/index.html") == true)
    }
    let names = Self.files(out)
    #expect(names.filter { $0.hasSuffix(".png") }.count < 8)
    #expect(Self.everyPNGHasItsSidecar(out))
    #expect(!names.contains { $0.hasPrefix(".") })
  }

  @Test(
    "info, export, train, predict and evaluate on a folder with a corrupt file finish and exit 3")
  func folderCommandsExitPartial() throws {
    let d = makeTemporaryDirectory()
    for (index, label) in ["a", "a", "a", "b", "b", "b"].enumerated() {
      try writeFile(
        PNGCodec.encode(byteImage(height: 5, width: 5, channels: 1, seed: UInt64(index))),
        to: d + "/data/\(label)/\(index).png")
    }
    try writeFile([1, 2, 3], to: d + "/data/b/broken.png")
    let summary = "glimpse: skipped 1 item, listed above; exit status 3 (partial)"
    let commands: [[String]] = [
      ["info", d + "/data", "--sheet", d + "/s.png"],
      ["export", d + "/data", "--to", d + "/copy"],
      ["train", d + "/data", "--model", "knn", "--k", "1", "--out", d + "/m.glimpse"],
      ["predict", d + "/m.glimpse", d + "/data", "--out", d + "/p.csv"],
      ["evaluate", d + "/m.glimpse", d + "/data"],
    ]
    for arguments in commands {
      let outcome = run(arguments)
      #expect(outcome.status == ExitStatus.partial, "\(arguments[0])")
      #expect(outcome.errors == [summary], "\(arguments[0])")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: d + "/copy/b").count == 3)
    // Without skipped files, the same commands exit 0.
    try FileManager.default.removeItem(atPath: d + "/data/b/broken.png")
    #expect(run(["info", d + "/data", "--sheet", d + "/s.png"]) == (0, []))
  }
}

@Suite("Command line: model files with repeated class names")
struct RepeatedClassNameTests {
  @Test("a model file whose class names repeat explains and evaluates without a trap")
  func repeatedClassNames() throws {
    let d = makeTemporaryDirectory()
    let model = BatchTests.model(in: d)
    var archive = try ModelArchive(decoding: FileBytes.readRaw(model))
    archive.classNames[1] = archive.classNames[0]
    try writeFile(archive.encoded(), to: d + "/twins.glimpse")
    let folder = try BatchTests.folder(in: d, count: 2)
    let batch = run(
      ["explain-batch", d + "/twins.glimpse", "--folder", folder, "--out", d + "/out"]
        + BatchTests.common)
    #expect(batch.status == ExitStatus.partial || batch.status == ExitStatus.badInput)
    let evaluate = run(["evaluate", d + "/twins.glimpse", TestPaths.samples + "/digits"])
    #expect(evaluate.status == 0 || evaluate.status == ExitStatus.badInput)
  }
}

@Suite("Command line: model files with a broken image shape")
struct BrokenImageShapeTests {
  @Test(
    "a model file whose image shape is zero, negative or huge is one error line, not a trap",
    arguments: [
      #"{"height": 0, "width": 784, "channels": 1}"#,
      #"{"height": -28, "width": -28, "channels": 1}"#,
      #"{"height": 4611686018427387904, "width": 4, "channels": 1}"#,
      #"{"height": 28, "width": 28, "channels": 9}"#,
    ])
  func brokenShape(json: String) throws {
    let d = makeTemporaryDirectory()
    let model = BatchTests.model(in: d)
    var archive = try ModelArchive(decoding: FileBytes.readRaw(model))
    archive.imageShape = try JSONDecoder().decode(ImageShape.self, from: Data(json.utf8))
    try writeFile(archive.encoded(), to: d + "/broken.glimpse")
    let folder = try BatchTests.folder(in: d, count: 1)
    let batch = run(
      ["explain-batch", d + "/broken.glimpse", "--folder", folder, "--out", d + "/out"]
        + BatchTests.common)
    #expect(batch.status == ExitStatus.badInput)
    #expect(batch.errors.count == 1)
    // Refused when the model file is decoded (its field names the shape), one line naming it.
    #expect(batch.errors.first?.hasPrefix("glimpse: error: \(d)/broken.glimpse: ") == true)
    #expect(batch.errors.first?.lowercased().contains("shape") == true, "\(batch.errors)")
  }
}

@Suite("Command line: value checkpoints with repeated class keys")
struct CheckpointClassKeyTests {
  @Test(
    "a classwise checkpoint whose class keys repeat as numbers (\"1\", \"01\") merges without a trap"
  )
  func repeatedClassKeys() throws {
    let d = makeTemporaryDirectory()
    try ValueCommandTests.writePoints(d)
    #expect(
      run([
        "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", "classwise",
        "--samples", "8", "--out", d + "/cw.csv",
      ]) == (0, []))
    let path = d + "/cw.csv.checkpoint.json"
    var json = try #require(
      JSONSerialization.jsonObject(with: Data(FileBytes.readRaw(path))) as? [String: Any])
    var scores = try #require(json["inClassScores"] as? [String: Any])
    let first = try #require(scores.keys.sorted().first)
    scores["0" + first] = scores[first]
    scores["+" + first] = scores[first]
    json["inClassScores"] = scores
    try writeFile(Array(JSONSerialization.data(withJSONObject: json)), to: path)
    let merged = run(["value", "merge", path, "--out", d + "/merged.csv"])
    #expect(
      merged.status == 0 || (merged.status == ExitStatus.badInput && merged.errors.count == 1))
  }
}

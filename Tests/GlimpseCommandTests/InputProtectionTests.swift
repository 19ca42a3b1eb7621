import ArgumentParser
import Foundation
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// Outputs never land on inputs: refused before work, with one line, and the input left as it was.
@Suite("Command line: an output never overwrites an input")
struct InputProtectionTests {
  /// A tiny labelled table of plain 2-D points and a k-NN model trained on it.
  static func setUp() throws -> (directory: String, table: String, model: String) {
    let d = makeTemporaryDirectory()
    try ValueCommandTests.writePoints(d)
    let model = d + "/model.glimpse"
    #expect(
      run(["train", d + "/train.csv", "--model", "knn", "--k", "3", "--out", model]).status == 0)
    return (d, d + "/train.csv", model)
  }

  static func bytes(_ path: String) -> [UInt8] {
    (try? FileBytes.readRaw(path)) ?? []
  }

  /// Every leaf command below the root, found through the command tree.
  static func leafCommands(_ command: any ParsableCommand.Type) -> [any ParsableCommand.Type] {
    let children = command.configuration.subcommands
    return children.isEmpty ? [command] : children.flatMap { leafCommands($0) }
  }

  @Test("every command declares the files it reads and writes")
  func everyCommandDeclaresItsFiles() {
    let leaves = Self.leafCommands(Glimpse.self)
    // 16 since bench moved to glimpse-bench.
    #expect(leaves.count >= 16)
    for command in leaves {
      #expect(command is any CommandFiles.Type, "\(command) does not conform to CommandFiles")
    }
  }

  @Test(
    "--out naming the model, the data or a label table is refused (exit 65, one line) and the input is unchanged"
  )
  func outNamingAnInputIsRefused() throws {
    let (d, table, model) = try Self.setUp()
    let modelBefore = Self.bytes(model)
    let tableBefore = Self.bytes(table)
    for arguments in [
      ["predict", model, table, "--out", model],
      ["predict", model, table, "--out", table],
      ["train", table, "--model", "knn", "--out", table],
      ["ambiguous", model, table, "--all", "--out", model],
      ["value", table, "--valid", d + "/valid.csv", "--method", "knn", "--out", d + "/valid.csv"],
      ["evaluate", model, table, "--confusion", table],
    ] {
      let result = run(arguments)
      #expect(result.status == 65, "\(arguments)")
      #expect(result.errors.count == 1, "\(arguments)")
      #expect(result.errors.first?.contains("refusing to overwrite") == true, "\(result.errors)")
    }
    #expect(Self.bytes(model) == modelBefore)
    #expect(Self.bytes(table) == tableBefore)
    #expect(Self.bytes(d + "/valid.csv").count > 0)
  }

  @Test("an output reached through a symlink, a hard link or '..' is recognised as the input")
  func linksAndDotDotAreResolved() throws {
    let (d, table, model) = try Self.setUp()
    let before = Self.bytes(model)
    try FileManager.default.createSymbolicLink(atPath: d + "/alias", withDestinationPath: model)
    try FileManager.default.linkItem(atPath: model, toPath: d + "/hard")
    try FileManager.default.createDirectory(atPath: d + "/sub", withIntermediateDirectories: true)
    for out in [d + "/alias", d + "/hard", d + "/sub/../model.glimpse"] {
      #expect(run(["predict", model, table, "--out", out]).status == 65, "\(out)")
    }
    #expect(Self.bytes(model) == before)
    #expect(run(["predict", model, table, "--out", d + "/sub/p.csv"]).status == 0)
  }

  @Test("an output inside an input image folder is refused; export onto its own source folder too")
  func outputInsideInputFolderIsRefused() throws {
    let d = makeTemporaryDirectory()
    let folder = d + "/digits"
    #expect(
      run([
        "export", CommandTests.images, "--labels", CommandTests.labels, "--to", folder,
        "--per-class", "1",
      ]) == (0, []))
    let result = run(["info", folder, "--sheet", folder + "/0/sheet.png"])
    #expect(result.status == 65)
    #expect(result.errors.first?.contains("inside the input folder") == true)
    #expect(!FileManager.default.fileExists(atPath: folder + "/0/sheet.png"))
    #expect(run(["export", folder, "--to", folder, "--overwrite"]).status == 65)
    #expect(run(["info", folder, "--sheet", d + "/sheet.png"]) == (0, []))
  }

  @Test("while a command runs, AtomicFile refuses writes onto its inputs; released afterwards")
  func atomicFileRefusesProtectedInputs() throws {
    let d = makeTemporaryDirectory()
    let input = d + "/input.csv"
    try writeFile("a,b\n1,2\n", to: input)
    let registration = try InputProtection.check(
      outputs: [d + "/out.csv"], inputs: [input, d + "/missing"])
    #expect(throws: OutputIsInputError.self) { try AtomicFile.write("x", to: input) }
    #expect(Self.bytes(input) == Array("a,b\n1,2\n".utf8))
    try AtomicFile.write("fine\n", to: d + "/out.csv")
    InputProtection.release(registration)
    try AtomicFile.write("now allowed\n", to: input)
    #expect(Self.bytes(input) == Array("now allowed\n".utf8))
  }
}

import Foundation
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// Runs `glimpse` in-process and returns its exit status and error lines.
func run(_ arguments: [String]) -> (status: Int32, errors: [String]) {
  var errors: [String] = []
  let status = Glimpse.execute(arguments) { errors.append($0) }
  return (status, errors)
}

@Suite("Command line")
struct CommandTests {
  static let images = TestPaths.samples + "/mnist/mnist-imgs-mini.csv.bz2"
  static let labels = TestPaths.samples + "/mnist/mnist-lbls-mini.csv.bz2"

  @Test(
    "--version and --help for the root and every command exit 0",
    arguments: [
      ["--version"], ["--help"], ["info", "--help"], ["export", "--help"], ["demo", "--help"],
    ])
  func helpAndVersion(arguments: [String]) {
    #expect(run(arguments) == (0, []))
  }

  @Test("bench is not a command of the user's glimpse (the stages are glimpse-bench's)")
  func benchIsNotACommand() {
    #expect(run(["bench", "svm-fit"]).status == ExitStatus.usage)
  }

  @Test("info on the sample table writes a contact sheet PNG")
  func infoWritesSheet() throws {
    let sheet = makeTemporaryDirectory() + "/sheet.png"
    #expect(run(["info", Self.images, "--labels", Self.labels, "--sheet", sheet]) == (0, []))
    let image = try PNGCodec.decode(FileBytes.readRaw(sheet))
    #expect(image.width > 500 && image.height > 500)
  }

  @Test("export then info on the exported folder")
  func exportThenInfo() throws {
    let directory = makeTemporaryDirectory()
    let folder = directory + "/digits"
    #expect(
      run(["export", Self.images, "--labels", Self.labels, "--to", folder, "--per-class", "2"]) == (
        0, []
      ))
    #expect(run(["info", folder, "--sheet", directory + "/s.png"]) == (0, []))
    // Exporting again into the same folder would overwrite: refused.
    let again = run(["export", Self.images, "--labels", Self.labels, "--to", folder])
    #expect(again.status == ExitStatus.badInput)
    #expect(
      again.errors == [
        "glimpse: error: \(folder): directory exists and is not empty; choose another or pass --overwrite"
      ])
  }

  /// One bad input per case, with the message it must give (one line, naming file and place).
  static func badInputs() throws -> [(String, [String], String)] {
    let d = makeTemporaryDirectory()
    try writeFile("a,b,label\n1,2,x\n3,y\n", to: d + "/ragged.csv")
    try writeFile("a,b,label\n1,2,x\n3,four,y\n", to: d + "/text.csv")
    try writeFile(",a,b\n0,1,2\n1,3,4\n", to: d + "/features.csv")
    try writeFile(",label\n0,1\n", to: d + "/labels.csv")
    try writeFile("a,label\n1,x\n2,x\n", to: d + "/single.csv")
    try writeFile([0x89, 0x50, 0x4E, 0x47, 1, 2, 3], to: d + "/bad/a/x.png")
    try writeFile([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3], to: d + "/bad/b/y.jpg")
    try FileManager.default.createDirectory(atPath: d + "/empty", withIntermediateDirectories: true)
    try writeFile(
      PNGCodec.encode(byteImage(height: 5, width: 5, channels: 1, seed: 1)),
      to: d + "/sizes/a/1.png")
    try writeFile(
      PNGCodec.encode(byteImage(height: 6, width: 5, channels: 1, seed: 2)),
      to: d + "/sizes/b/2.png")
    return [
      ("missing file", ["info", d + "/nope.csv"], "\(d)/nope.csv: no such file or directory"),
      (
        "ragged row", ["info", d + "/ragged.csv"],
        "\(d)/ragged.csv:3: row has 2 fields, the header has 3"
      ),
      (
        "non-numeric cell", ["info", d + "/text.csv"],
        "\(d)/text.csv:3:2: column 'b': expected a number, found \"four\""
      ),
      (
        "label count", ["info", d + "/features.csv", "--labels", d + "/labels.csv"],
        "\(d)/labels.csv: 1 labels, but \(d)/features.csv has 2 rows"
      ),
      (
        "single class", ["info", d + "/single.csv"],
        "\(d)/single.csv: every row has class 'x'; a classifier needs at least two classes"
      ),
      ("only bad images", ["info", d + "/bad"], "\(d)/bad: no data rows"),
      ("empty folder", ["info", d + "/empty"], "\(d)/empty: no data rows"),
      (
        "mixed sizes", ["info", d + "/sizes"],
        "\(d)/sizes/b/2.png: image is 6×5 but \(d)/sizes/a/1.png is 5×5; pass --size HxW to resize all images"
      ),
    ]
  }

  @Test("bad input: one clear line, exit status 65, no stack trace")
  func badInput() throws {
    for (name, arguments, message) in try Self.badInputs() {
      let outcome = run(arguments)
      #expect(outcome.status == ExitStatus.badInput, "\(name)")
      // The skipped-file listing comes first for folders; the error line is always last.
      #expect(outcome.errors.last == "glimpse: error: \(message)", "\(name)")
    }
  }

  @Test("a folder with some bad files is read; the skipped files are listed")
  func skippedFilesListed() throws {
    let d = makeTemporaryDirectory()
    try writeFile(
      PNGCodec.encode(byteImage(height: 5, width: 5, channels: 1, seed: 1)), to: d + "/a/1.png")
    try writeFile(
      PNGCodec.encode(byteImage(height: 5, width: 5, channels: 1, seed: 2)), to: d + "/b/2.png")
    try writeFile([1, 2, 3], to: d + "/b/3.png")
    let outcome = run(["info", d, "--sheet", makeTemporaryDirectory() + "/sheet.png"])
    #expect(outcome.status == ExitStatus.partial)
    // Skipped files go straight to standard error; the last line counts them.
    #expect(outcome.errors == ["glimpse: skipped 1 item, listed above; exit status 3 (partial)"])
    let reading = try DatasetReader.read(d)
    #expect(reading.skipped.map(\.path) == [d + "/b/3.png"])
  }

  @Test("invalid arguments are usage errors (exit 64)")
  func usageErrors() {
    #expect(run(["info", Self.images, "--shape", "abc"]).status == 64)
    #expect(run(["export", Self.images, "--to", "/tmp/x", "--quality", "0"]).status == 64)
    #expect(run(["frobnicate"]).status == 64)
  }
}

import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

@Suite("CSV tables")
struct CSVReaderTests {
  func table(_ text: String, textColumns: Set<String> = []) throws -> CSVTable {
    try CSVReader.parse(Array(text.utf8), path: "t.csv", textColumns: textColumns)
  }

  func error(_ text: String, textColumns: Set<String> = []) -> DataError? {
    do {
      _ = try table(text, textColumns: textColumns)
      return nil
    } catch {
      return error as? DataError
    }
  }

  @Test("a pandas index column is kept as text; numeric columns fill the matrix in order")
  func pandasIndexColumn() throws {
    let parsed = try table(",a,b\n0,1,2.5\n1,-3,4e2\n")
    #expect(parsed.indexColumnName == "")
    #expect(parsed.numericColumnNames == ["a", "b"])
    #expect(parsed.values == Matrix([[1, 2.5], [-3, 400]]))
    #expect(parsed.textColumns[""] == ["0", "1"])
    #expect(parsed.lineNumbers == [2, 3])
  }

  @Test("blank lines are skipped, CRLF endings and quoted fields are understood")
  func blankLinesCRLFAndQuotes() throws {
    let parsed = try table(
      "x,label\r\n\r\n1,\"cat, striped\"\r\n2,\"say \"\"hi\"\"\"\r\n\n3,dog", textColumns: ["label"]
    )
    #expect(parsed.values.storage == [1, 2, 3])
    #expect(parsed.textColumns["label"] == ["cat, striped", "say \"hi\"", "dog"])
    #expect(parsed.lineNumbers == [3, 4, 6])
  }

  @Test("a ragged row is reported with its line number")
  func raggedRow() {
    #expect(error("a,b\n1,2\n3\n") == .raggedRow(path: "t.csv", line: 3, expected: 2, found: 1))
    #expect(
      error("a,b\n1,2\n\n3,4,5\n") == .raggedRow(path: "t.csv", line: 4, expected: 2, found: 3))
  }

  @Test("a non-numeric cell is reported with line, column and text")
  func nonNumericCell() {
    #expect(
      error("a,b\n1,2\n3,x7\n")
        == .nonNumericCell(path: "t.csv", line: 3, column: 2, columnName: "b", text: "x7"))
    #expect(
      error("a,b\n1,\n")
        == .nonNumericCell(path: "t.csv", line: 2, column: 2, columnName: "b", text: ""))
    // NaN and infinity are not features a model can use.
    #expect(error("a\nnan\n") != nil)
    #expect(error("a\ninf\n") != nil)
  }

  @Test("the first error in file order is reported when the body is parsed in parallel chunks")
  func errorsInParallelChunks() throws {
    var text = "a,b\n"
    for row in 0..<40_000 { text += "\(row),\(row % 7)\n" }
    let parsed = try table(text)
    #expect(parsed.rowCount == 40_000)
    #expect(parsed.lineNumbers.last == 40_001)
    #expect(parsed.values[39_999, 0] == 39_999)
    text += "1,2\n"
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    var broken = lines.map(String.init)
    broken[30_000] = "oops,1"  // line 30001
    broken[35_000] = "1"  // line 35001
    #expect(
      error(broken.joined(separator: "\n"))
        == .nonNumericCell(path: "t.csv", line: 30_001, column: 1, columnName: "a", text: "oops"))
  }

  @Test("the fast number parser gives strtod's double for every decimal form")
  func numbersMatchStrtod() {
    var generator = SeededGenerator(seed: 11)
    var texts = [
      "0", "-0", "+5", "0.1", "1e-7", "123456789012345678901234", "0.30000000000000004",
      "9007199254740993", "1.7976931348623157e308", "  42  ", "5.", ".5", "-.25E+3",
      "0.000001234", "123.456789012345678",
    ]
    for _ in 0..<3000 {
      let mantissa = generator.next() % 10_000_000_000
      let shift = Int(generator.next() % 15)
      var digits = String(mantissa)
      if shift < digits.count {
        digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -shift))
      }
      texts.append((generator.next() % 2 == 0 ? "-" : "") + digits)
    }
    for text in texts {
      let bytes = Array(text.utf8)
      let parsed = bytes.withUnsafeBufferPointer { pointer in
        ByteView(pointer).flatMap { CSVReader.parseNumber($0, 0, $0.count) }
      }
      let reference = strtod(text, nil)
      #expect(parsed?.bitPattern == reference.bitPattern, "\(text)")
    }
  }

  @Test("gzip and bzip2 are detected by signature; a truncated stream is an error")
  func compression() throws {
    let directory = makeTemporaryDirectory()
    let text = "a,label\n1,x\n2,y\n"
    let packed = FileBytes.gzip(Array(text.utf8))
    try writeFile(packed, to: directory + "/t.csv.gz")
    #expect(try FileBytes.read(directory + "/t.csv.gz") == Array(text.utf8))
    // Two concatenated members read as one file, as gzip(1) does.
    try writeFile(packed + packed, to: directory + "/twice.gz")
    #expect(try FileBytes.read(directory + "/twice.gz") == Array((text + text).utf8))
    try writeFile(Array(packed.prefix(packed.count - 12)), to: directory + "/cut.gz")
    #expect(throws: DataError.self) { try FileBytes.read(directory + "/cut.gz") }

    let bz2 = try FileBytes.readRaw(TestPaths.samples + "/mnist/mnist-lbls-mini.csv.bz2")
    try writeFile(Array(bz2.prefix(bz2.count / 2)), to: directory + "/cut.csv.bz2")
    #expect {
      try FileBytes.read(directory + "/cut.csv.bz2")
    } throws: { error in
      (error as? DataError).map { "\($0)".contains("truncated") } ?? false
    }
  }

  @Test("a missing file is reported by path")
  func missingFile() {
    #expect(throws: DataError.fileNotFound(path: "/no/such/table.csv")) {
      try CSVReader.read("/no/such/table.csv")
    }
  }
}

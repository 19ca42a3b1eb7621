import Glibc
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

@Suite("CSV bodies parsed in chunks straight into the matrix")
struct CSVChunkedParseTests {
  /// Cells in every form the parser meets: plain integers (the fast path), and forms the fast
  /// path must hand to the general one (fractions, signs, spaces, exponents, long mantissas).
  static let cells = [
    "0", "255", "7", "007", "1.5", " 3 ", "-4", "+9", "1e2", "123456789012345", "1234567890123456",
    "12345678901234567890", "0.1", "3.", ".5",
  ]

  /// A table of `rows` rows (more than one chunk's worth) with blank lines and CRLF endings
  /// scattered through it; returns the text, the expected values and the expected line numbers.
  static func table(rows: Int) -> (text: String, values: [Double], lines: [Int]) {
    var rng = SeededGenerator(seed: 3)
    var text = ",a,b,c,d\n"
    var values = [Double]()
    var lines = [Int]()
    var line = 2
    for row in 0..<rows {
      if rng.next() % 7 == 0 {
        text += rng.next() % 2 == 0 ? "\n" : "\r\n"
        line += 1
      }
      var fields = ["\(row)"]
      for _ in 0..<4 {
        let cell = cells[Int(rng.next() % UInt64(cells.count))]
        fields.append(cell)
        values.append(strtod(cell, nil))
      }
      text += fields.joined(separator: ",") + (rng.next() % 5 == 0 ? "\r\n" : "\n")
      lines.append(line)
      line += 1
    }
    return (text, values, lines)
  }

  @Test(
    "every cell equals strtod's value, and rows keep their line numbers, across chunks with blank lines"
  )
  func chunkedWithBlankLines() throws {
    let (text, values, lines) = Self.table(rows: 20_000)
    #expect(text.utf8.count > 1 << 17)  // several chunks
    let table = try CSVReader.parse(Array(text.utf8), path: "t.csv")
    #expect(table.rowCount == 20_000)
    #expect(table.values.storage == values)
    #expect(table.lineNumbers == lines)
    #expect(table.textColumns[""] == (0..<20_000).map { "\($0)" })
  }

  @Test("a table without a final line break keeps its last row")
  func unterminatedLastRow() throws {
    let (text, values, _) = Self.table(rows: 9_000)
    let table = try CSVReader.parse(Array(text.utf8.dropLast()), path: "t.csv")
    #expect(table.values.storage == values)
  }

  @Test("a bad cell after many good rows is still reported at its line")
  func errorAfterFastRows() throws {
    var (text, _, lines) = Self.table(rows: 9_000)
    text += "9000,1,2,x,4\n"
    #expect(
      throws: DataError.nonNumericCell(
        path: "t.csv", line: lines.last! + 1, column: 4, columnName: "c", text: "x")
    ) {
      try CSVReader.parse(Array(text.utf8), path: "t.csv")
    }
    var (short, _, _) = Self.table(rows: 9_000)
    short += "9000,1,2\n"
    #expect(
      throws: DataError.raggedRow(path: "t.csv", line: lines.last! + 1, expected: 5, found: 3)
    ) {
      try CSVReader.parse(Array(short.utf8), path: "t.csv")
    }
  }

  @Test("an image table is scaled by 1/255 only when every cell is a whole number from 0 to 255")
  func byteTest() throws {
    let directory = makeTemporaryDirectory()
    for (cells, scaled) in [
      ("0,255,7,9", true), ("0,255,7.5,9", false), ("0,256,7,9", false),
      ("0,-1,7,9", false), ("0,1e2,7,9", true),
    ] {
      try writeFile("a,b,c,d,label\n\(cells),x\n1,2,3,4,y\n", to: directory + "/t.csv")
      let dataset = try TableDatasetReader.read(directory + "/t.csv")
      let raw = try CSVReader.read(directory + "/t.csv", textColumns: ["label"]).values.storage
      let expected = scaled ? raw.map { $0 / 255 } : raw
      #expect(dataset.features.storage == expected)
    }
  }
}

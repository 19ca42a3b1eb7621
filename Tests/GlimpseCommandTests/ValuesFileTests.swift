import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// The values CSV read back by `clean --values`: rows placed by their index, every bad row one
/// line naming the file and line.
@Suite("Command line: values files validated row by row")
struct ValuesFileTests {
  static let header = "index,source,label,value,stderr,samples\n"

  static func read(_ body: String, count: Int = 3) throws -> [Double] {
    let path = makeTemporaryDirectory() + "/values.csv"
    try writeFile(header + body, to: path)
    return try ValuesTable.readValues(path, count: count)
  }

  /// The one-line message reading `body` fails with.
  static func failure(_ body: String, count: Int = 3) -> String? {
    do {
      _ = try read(body, count: count)
      return nil
    } catch let error as any GlimpseError {
      return error.description
    } catch {
      return "\(error)"
    }
  }

  @Test("rows in any order are placed by their index")
  func shuffledRows() throws {
    #expect(try Self.read("2,c,x,0.3,0,1\n0,a,x,0.1,nan,1\n1,b,x,-0.2,0,1\n") == [0.1, -0.2, 0.3])
  }

  @Test(
    "an index repeated, out of range, negative, fractional, huge or not a number is refused with its line",
    arguments: [
      ("0,a,x,1,0,1\n0,b,x,2,0,1\n1,c,x,3,0,1\n", ":3: index 0 appears twice"),
      ("0,a,x,1,0,1\n1,b,x,2,0,1\n3,c,x,3,0,1\n", ":4: index \"3\" is not a point number in 0..<3"),
      ("0,a,x,1,0,1\n-1,b,x,2,0,1\n2,c,x,3,0,1\n", ":3: index \"-1\""),
      ("0,a,x,1,0,1\n1.5,b,x,2,0,1\n2,c,x,3,0,1\n", ":3: index \"1.5\""),
      (
        "0,a,x,1,0,1\n99999999999999999999,b,x,2,0,1\n2,c,x,3,0,1\n",
        ":3: index \"99999999999999999999\""
      ),
      ("0,a,x,1,0,1\nabc,b,x,2,0,1\n2,c,x,3,0,1\n", ":3: index \"abc\""),
    ])
  func badIndex(body: String, expected: String) {
    let message = Self.failure(body)
    #expect(message?.contains(expected) == true, "\(message ?? "nil")")
    #expect(message?.contains("values.csv") == true)
  }

  @Test(
    "a value that is not a finite number is refused with one line",
    arguments: ["x", "1e999", "nan"])
  func badValue(value: String) {
    let message = Self.failure("0,a,x,1,0,1\n1,b,x,\(value),0,1\n2,c,x,3,0,1\n")
    #expect(message != nil)
    #expect(message?.contains("\n") == false)
  }

  @Test("mutated values files are read or refused with one line")
  func mutatedFiles() {
    let original = Array("0,a,x,0.1,0,1\n1,b,y,-0.2,0.01,2\n2,c,x,0.3,nan,1\n".utf8)
    let pieces = [
      "", ",", "\n", "-", "1e400", "\"", "99999999999999999999", "\u{0}", "-0", "2", "nan",
    ]
    var rng = SeededGenerator(seed: 3)
    for _ in 0..<300 {
      var bytes = original
      let position = Int(rng.next(upperBound: UInt64(bytes.count)))
      let length = Int(rng.next(upperBound: UInt64(3)))
      let piece = pieces[Int(rng.next(upperBound: UInt64(pieces.count)))]
      bytes.replaceSubrange(position..<min(bytes.count, position + length), with: Array(piece.utf8))
      if let message = Self.failure(String(decoding: bytes, as: UTF8.self)) {
        #expect(!message.contains("\n"), "\(message)")
      }
    }
  }
}

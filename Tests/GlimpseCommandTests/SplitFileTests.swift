import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// Split files (`--split FILE`): every bad row list is one line naming the file and the field.
@Suite("Command line: split files validated field by field")
struct SplitFileTests {
  /// The one-line message reading `json` (and checking it against 10 rows) fails with.
  static func failure(_ json: String, rows: Int = 10) -> String? {
    let path = makeTemporaryDirectory() + "/split.json"
    do {
      try writeFile(json, to: path)
      let split = try SplitFile.read(path)
      try split.check(rows: rows, path: path)
      return nil
    } catch let failure as FileContentError {
      // A GlimpseError: the CLI prints it as one line and exits 65.
      #expect(failure.description.hasPrefix(path + ": "))
      return failure.description
    } catch {
      return "\(error)"
    }
  }

  @Test("a valid split reads")
  func validSplit() {
    #expect(Self.failure(#"{"train": [0, 1, 2], "test": [3, 4]}"#) == nil)
  }

  @Test(
    "negative, repeated, shared, out-of-range, huge and non-numeric rows are refused by field",
    arguments: [
      (#"{"train": [0, -1], "test": [3]}"#, "field 'train[1]' is -1"),
      (#"{"train": [0, 1, 1], "test": [3]}"#, "field 'train' lists row 1 twice"),
      (#"{"train": [0], "test": [3, 3]}"#, "field 'test' lists row 3 twice"),
      (#"{"train": [0, 3], "test": [3]}"#, "row 3 is in both"),
      (#"{"train": [0], "test": [10]}"#, "field 'test[0]': row 10 is outside the data's 0..<10"),
      (#"{"train": [0, 1e30], "test": [3]}"#, "field 'train[1]'"),
      (#"{"train": [0, 99999999999999999999], "test": [3]}"#, "field 'train[1]'"),
      (#"{"train": [0, "a"], "test": [3]}"#, "field 'train[1]'"),
      (#"{"train": [0, 1.5], "test": [3]}"#, "field 'train[1]'"),
      (#"{"test": [3]}"#, "field 'train': missing"),
      (
        #"{"train": [0, 1], "test": [3], "noisy": {"train_labels_noisy": [1], "train_labels_clean": [1, 2]}}"#,
        "'noisy.train_labels_noisy' has 1 labels for 2 train rows"
      ),
    ])
  func refused(json: String, expected: String) {
    let message = Self.failure(json)
    #expect(message?.contains(expected) == true, "\(message ?? "nil")")
  }

  @Test("binary and mutated split files are refused with one line, no raw bytes")
  func mutatedFiles() {
    let original = Array(
      #"{"train": [0, 1, 2], "test": [3, 4], "noisy": {"train_labels_noisy": [1, 0, 1], "train_labels_clean": [1, 1, 1]}}"#
        .utf8)
    let pieces = [
      "", ",", "-", "1e400", "\"", "99999999999999999999", "\u{0}\u{7}", "[", "]", "}", "null", "7",
    ]
    var rng = SeededGenerator(seed: 9)
    for _ in 0..<300 {
      var bytes = original
      let position = Int(rng.next(upperBound: UInt64(bytes.count)))
      let length = Int(rng.next(upperBound: UInt64(3)))
      let piece = pieces[Int(rng.next(upperBound: UInt64(pieces.count)))]
      bytes.replaceSubrange(position..<min(bytes.count, position + length), with: Array(piece.utf8))
      if let message = Self.failure(String(decoding: bytes, as: UTF8.self)) {
        #expect(
          !message.contains("\n") && !message.contains("\u{0}") && !message.contains("\u{7}"),
          "\(message)")
      }
    }
  }
}

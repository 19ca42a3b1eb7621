import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import glimpse

/// Checkpoints a user may have edited, through `value --resume` and `value merge`: every one is
/// accepted or refused with one line naming the file, never a trap or a hang.
@Suite("Command line: checkpoint files validated field by field")
struct CheckpointFileTests {
  /// A directory with the 2-D points and a checkpoint of `method` after a few samples.
  static func checkpoint(_ method: String, samples: Int = 4, shard: String? = nil) throws -> (
    directory: String, path: String, base: [String]
  ) {
    let d = makeTemporaryDirectory()
    try ValueCommandTests.writePoints(d)
    let base = [
      "value", d + "/train.csv", "--valid", d + "/valid.csv", "--method", method, "--threads", "1",
    ]
    let shardArguments = shard.map { ["--shard", $0] } ?? []
    let result = run(base + ["--samples", "\(samples)", "--out", d + "/v.csv"] + shardArguments)
    #expect(result.status == 0, "\(result.errors)")
    return (d, d + "/v.csv.checkpoint.json", base)
  }

  static func json(_ path: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(FileBytes.readRaw(path))) as! [String: Any]
  }

  static func write(_ object: [String: Any], to path: String) throws {
    try writeFile(Array(try JSONSerialization.data(withJSONObject: object)), to: path)
  }

  /// A refusal: exit 65 and one line that names the file.
  static func expectRefused(
    _ result: (status: Int32, errors: [String]), naming path: String, _ words: String? = nil
  ) {
    #expect(result.status == ExitStatus.badInput, "\(result.errors)")
    #expect(result.errors.count == 1)
    #expect(result.errors.first?.hasPrefix("glimpse: error: \(path): ") == true, "\(result.errors)")
    if let words { #expect(result.errors.first?.contains(words) == true, "\(result.errors)") }
  }

  @Test(
    "a class-wise checkpoint with a huge done range resumes at once (was a hang in --resume)",
    .timeLimit(.minutes(1)))
  func classwiseHugeRange() throws {
    let (d, path, base) = try Self.checkpoint("classwise")
    var file = try Self.json(path)
    var state = file["state"] as! [String: Any]
    state["completed"] = ["ranges": [[0, 1 << 40]]]
    file["state"] = state
    try Self.write(file, to: path)
    // The budget (50 per class) is long spent: the run stops at once with the stored values.
    let resumed = run(base + ["--resume", "--out", d + "/v.csv"])
    #expect(resumed == (0, []))
  }

  @Test("resuming a checkpoint edited to another point count or method is refused with one line")
  func resumeOtherShape() throws {
    let (d, path, base) = try Self.checkpoint("tmc")
    let original = try Self.json(path)
    // One point fewer everywhere (sources, labels, every array), same fingerprint.
    var fewer = original
    fewer["sources"] = Array((original["sources"] as! [Any]).dropLast())
    fewer["labels"] = Array((original["labels"] as! [Any]).dropLast())
    var state = original["state"] as! [String: Any]
    var accumulator = state["accumulator"] as! [String: Any]
    accumulator["channels"] = (accumulator["channels"] as! [[String: Any]]).map { channel in
      channel.mapValues { Array(($0 as! [Any]).dropLast()) as Any }
    }
    state["accumulator"] = accumulator
    fewer["state"] = state
    try Self.write(fewer, to: path)
    Self.expectRefused(
      run(base + ["--samples", "8", "--resume", "--out", d + "/v.csv"]), naming: path, "39 points")
    // The method field says banzhaf: two channels expected, one found.
    var other = original
    other["method"] = "banzhaf"
    try Self.write(other, to: path)
    Self.expectRefused(
      run(base + ["--samples", "8", "--resume", "--out", d + "/v.csv"]), naming: path, "channels")
  }

  @Test(
    "merge refuses in-class scores with a key twice (was a duplicate-key trap), a shard of 0, unknown methods"
  )
  func mergeRefusals() throws {
    let (d, path, _) = try Self.checkpoint("classwise")
    let original = try Self.json(path)
    func refused(_ key: String, _ value: Any, _ words: String) throws {
      var file = original
      file[key] = value
      try Self.write(file, to: path)
      Self.expectRefused(run(["value", "merge", path, "--out", d + "/m.csv"]), naming: path, words)
    }
    try refused("inClassScores", ["1": 0.5, "01": 0.25, "0": 0.1], "inClassScores")
    try refused("shard", ["index": 0, "count": 0], "shard")
    try refused("method", "loo\n", "field 'method' is \"loo\\n\"")
    try refused("sources", ["a"], "'sources'")
  }

  /// `original` with one number or string replaced by a value that tends to break things.
  static func mutant(_ original: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
    let replacements = [
      "0", "-1", "1", "7", "281474976710656", "9223372036854775807", "1e308", "0.5", "[]",
      "[[0,1]]", "\"1\"", "null", "\"170141183460469231731687303715884105727\"", "{}",
    ]
    var spans: [Range<Int>] = []
    var index = 0
    while index < original.count {
      let start = index
      if original[index] == UInt8(ascii: "\"") {
        index += 1
        while index < original.count, original[index] != UInt8(ascii: "\"") { index += 1 }
        index += 1
        spans.append(start..<min(index, original.count))
      } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(original[index])
        || original[index] == UInt8(ascii: "-")
      {
        while index < original.count, Set("-+.e0123456789".utf8).contains(original[index]) {
          index += 1
        }
        spans.append(start..<index)
      } else {
        index += 1
      }
    }
    var bytes = original
    let span = spans[Int(rng.next(upperBound: UInt64(spans.count)))]
    bytes.replaceSubrange(
      span, with: Array(replacements[Int(rng.next(upperBound: UInt64(replacements.count)))].utf8))
    return bytes
  }

  /// Mutated class-wise checkpoints resumed for one more sample.
  @Test("mutated checkpoints resume or are refused with one line", .timeLimit(.minutes(2)))
  func mutatedCheckpointsResume() throws {
    let (d, path, base) = try Self.checkpoint("classwise", samples: 2)
    let original = try FileBytes.readRaw(path)
    var rng = SeededGenerator(seed: 8)
    let rounds = ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_ROUNDS"].flatMap(Int.init) ?? 20
    for _ in 0..<rounds {
      try writeFile(Self.mutant(original, using: &rng), to: path)
      let result = run(base + ["--samples", "3", "--resume", "--out", d + "/v.csv"])
      if result.status != 0 {
        #expect(result.status == ExitStatus.badInput, "\(result.errors)")
        #expect(result.errors.count == 1 && !result.errors[0].contains("\n"), "\(result.errors)")
      }
    }
  }

  /// Numbers and strings of a real checkpoint replaced at random, merged with its other shard.
  @Test("hundreds of mutated checkpoints merge or are refused with one line")
  func mutatedCheckpointsMerge() throws {
    let (d, path, base) = try Self.checkpoint("banzhaf", samples: 6, shard: "0/2")
    #expect(run(base + ["--samples", "6", "--shard", "1/2", "--out", d + "/w.csv"]).status == 0)
    let other = d + "/w.csv.checkpoint.json"
    let original = try FileBytes.readRaw(path)
    var rng = SeededGenerator(seed: 5)
    let rounds = ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_ROUNDS"].flatMap(Int.init) ?? 300
    for _ in 0..<rounds {
      let bytes = Self.mutant(original, using: &rng)
      try writeFile(bytes, to: d + "/mutant.json")
      let result = run(["value", "merge", d + "/mutant.json", other, "--out", d + "/m.csv"])
      if result.status != 0 {
        #expect(result.status == ExitStatus.badInput, "\(result.errors)")
        #expect(result.errors.count == 1 && !result.errors[0].contains("\n"), "\(result.errors)")
      }
    }
  }
}

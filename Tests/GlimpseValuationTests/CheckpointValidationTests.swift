import Foundation
import GlimpseCore
import Testing

@testable import GlimpseValuation

/// Monte Carlo states read back from checkpoints a user may have edited: every field is checked
/// on decoding, and resuming or merging never traps or runs for ever.
@Suite("Checkpoints: validated field by field")
struct CheckpointValidationTests {
  /// A real state of `method` (TMC: 1 channel, Banzhaf: 2) after a few samples, as JSON.
  static func stateJSON(banzhaf: Bool = false, samples: Int = 6) -> String {
    let game = MonteCarloTests.game
    let options = MonteCarloOptions(stopping: .maxSamples(samples), threads: 1)
    let state =
      banzhaf
      ? MaximumSampleReuseBanzhaf(seed: 3).run(game, options: options).1
      : TruncatedMonteCarloShapley(seed: 3).run(game, options: options).1
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // A state the test itself just made always encodes.
    // swift-format-ignore: NeverUseForceTry
    return String(decoding: try! encoder.encode(state), as: UTF8.self)
  }

  static func decode(_ json: String) throws -> MonteCarloState {
    try JSONDecoder().decode(MonteCarloState.self, from: Data(json.utf8))
  }

  /// `json` with its `"completed"` ranges replaced.
  static func withRanges(_ json: String, _ ranges: String) -> String {
    let range = json.range(of: #""completed":\{"ranges":\[[^}]*\]\}"#, options: .regularExpression)!
    return json.replacingCharacters(in: range, with: #""completed":{"ranges":\#(ranges)}"#)
  }

  @Test("a state round-trips through JSON unchanged")
  func roundTrip() throws {
    for banzhaf in [false, true] {
      let json = Self.stateJSON(banzhaf: banzhaf)
      let state = try Self.decode(json)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      #expect(String(decoding: try encoder.encode(state), as: UTF8.self) == json)
    }
  }

  @Test(
    "a huge done range decodes at once, and a resume skips it (were a loop per index)",
    .timeLimit(.minutes(1)))
  func hugeRangeResumes() throws {
    let huge = 1 << 40
    let state = try Self.decode(Self.withRanges(Self.stateJSON(), "[[0,\(huge)]]"))
    #expect(state.completed.count == huge)
    let final = MonteCarloRunner.run(
      from: state, options: MonteCarloOptions(stopping: .maxSamples(huge + 3), threads: 1),
      sample: { _ in [] })
    #expect(final.completed.count == huge + 3)
    #expect(final.completed.ranges == [0..<(huge + 3)])
    // Merging and the disjointness check work range by range too.
    var other = try Self.decode(Self.withRanges(Self.stateJSON(), "[[\(huge + 10),\(2 * huge)]]"))
    try other.merge(final)
    #expect(other.completed.ranges == [0..<(huge + 3), (huge + 10)..<(2 * huge)])
    #expect(throws: ValuationError.self) { try other.merge(final) }
  }

  @Test(
    "ranges past 2^48, negative, reversed, overlapping or malformed are refused",
    arguments: [
      "[[0,\(1 << 60)]]", "[[-5,3]]", "[[4,2]]", "[[0,5],[3,8]]", "[[5,8],[0,2]]", "[[1,2,3]]",
      "[[0,9223372036854775807]]",
    ])
  func badRanges(ranges: String) {
    #expect(throws: DecodingError.self) {
      try Self.decode(Self.withRanges(Self.stateJSON(), ranges))
    }
  }

  @Test(
    "an accumulator with no channel, three, or channels of different lengths is refused (was channels[0] trapping)",
    arguments: ["none", "three", "uneven"])
  func badChannels(kind: String) throws {
    let json = Self.stateJSON(banzhaf: true)
    var state = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    var accumulator = state["accumulator"] as! [String: Any]
    var channels = accumulator["channels"] as! [[String: Any]]
    switch kind {
    case "three": channels.append(channels[0])
    case "uneven":
      for key in ["counts", "sums", "sumsOfSquares"] {
        channels[1][key] = Array((channels[1][key] as! [Any]).dropLast())
      }
    default: channels = []
    }
    accumulator["channels"] = channels
    state["accumulator"] = accumulator
    let edited = String(decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self)
    #expect(throws: DecodingError.self) { try Self.decode(edited) }
  }

  @Test(
    "counts above the samples done, negative counts, arrays of unequal length, huge sums are refused"
  )
  func badCounts() throws {
    let json = Self.stateJSON()
    let state = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    func edited(_ change: (inout [String: Any]) -> Void) -> String {
      var accumulator = state["accumulator"] as! [String: Any]
      var channels = accumulator["channels"] as! [[String: Any]]
      change(&channels[0])
      accumulator["channels"] = channels
      var copy = state
      copy["accumulator"] = accumulator
      return String(decoding: try! JSONSerialization.data(withJSONObject: copy), as: UTF8.self)
    }
    let edits: [(inout [String: Any]) -> Void] = [
      { $0["counts"] = [7, 6, 6, 6, 6, 6, 6, 6] },
      { $0["counts"] = [-1, 6, 6, 6, 6, 6, 6, 6] },
      { $0["counts"] = [Int.max, 6, 6, 6, 6, 6, 6, 6] },
      { $0["counts"] = [6, 6, 6] },
      { $0["sums"] = Array(repeating: "170141183460469231731687303715884105727", count: 8) },
      {
        $0["sumsOfSquares"] = Array(repeating: "-170141183460469231731687303715884105728", count: 8)
      },
      { $0["sums"] = Array(repeating: "12x", count: 8) },
    ]
    for edit in edits {
      #expect(throws: DecodingError.self) { try Self.decode(edited(edit)) }
    }
  }

  @Test("negative elapsed time, and labels not one per point, are refused")
  func badElapsedAndLabels() throws {
    let json = Self.stateJSON()
    let negative = json.replacingOccurrences(
      of: #""elapsedSeconds":[0-9.e-]+"#, with: #""elapsedSeconds":-1"#, options: .regularExpression
    )
    #expect(throws: DecodingError.self) { try Self.decode(negative) }
    let labels = json.replacingOccurrences(
      of: #""fingerprint""#, with: #""labels":[0,1],"fingerprint""#)
    #expect(throws: DecodingError.self) { try Self.decode(labels) }
  }

  @Test(
    "a shard of count 0, index past its count, or more than 2^20 shards is refused (were a division by zero, and a merge listing 10^15 missing shards)",
    arguments: [
      #"{"index":0,"count":0}"#, #"{"index":3,"count":3}"#, #"{"index":-1,"count":2}"#,
      #"{"index":0,"count":1000000000000000}"#,
    ])
  func badShard(json: String) {
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(Shard.self, from: Data(json.utf8))
    }
  }

  @Test("merging states of different shapes throws instead of trapping")
  func mergeShapes() throws {
    var tmc = try Self.decode(Self.stateJSON())
    var banzhaf = try Self.decode(Self.withRanges(Self.stateJSON(banzhaf: true), "[[100,106]]"))
    banzhaf.fingerprint = tmc.fingerprint
    #expect(throws: ValuationError.self) { try tmc.merge(banzhaf) }
    #expect(throws: ValuationError.self) { try tmc.check(pointCount: 9, channelCount: 1) }
    try tmc.check(pointCount: 8, channelCount: 1)
  }

  @Test("merging sums that would overflow 128 bits throws")
  func mergeOverflow() throws {
    let big = String(FixedPointSum.maximumStoredRaw)
    var json = Self.stateJSON(samples: 1)
    json = json.replacingOccurrences(
      of: #""sums":\["[-0-9]+"(,"[-0-9]+")*\]"#,
      with: #""sums":["# + Array(repeating: "\"\(big)\"", count: 8).joined(separator: ",") + "]",
      options: .regularExpression)
    var merged = try Self.decode(json)
    var threw = false
    for part in 1..<200 where !threw {
      let next = try Self.decode(Self.withRanges(json, "[[\(part),\(part + 1)]]"))
      do { try merged.merge(next) } catch { threw = true }
    }
    #expect(threw)
  }

  @Test("class-wise normalisation groups points in one pass and scales each class to its score")
  func classwiseNormalisation() {
    var result = ValuationResult(
      method: "classwise", values: [1, 2, 3, 4], standardErrors: [1, 1, 1, 1],
      sampleCounts: [1, 1, 1, 1], status: .budgetExhausted, totalSamples: 1)
    ClasswiseShapley.normalize(
      &result, labels: [0, 1, 0, 1, 7], inClassScores: [0: 8, 1: 3, 5: 1])
    #expect(result.values == [2, 1, 6, 2])
  }

  /// Numbers and brackets of a real checkpoint replaced at random: decoding throws or gives a
  /// state that resumes and reports values.
  @Test("thousands of mutated checkpoints decode or throw; decoded ones resume and report")
  func mutatedStates() {
    let rounds =
      ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_ROUNDS"].flatMap(Int.init) ?? 1500
    let sources = [Self.stateJSON(), Self.stateJSON(banzhaf: true)]
    let replacements = [
      "0", "-1", "1", "7", "281474976710656", "9223372036854775807", "-9223372036854775808",
      "1e308", "0.5", "[]", "[[0,1]]", "\"1\"", "null",
      "\"170141183460469231731687303715884105727\"",
    ]
    var rng = SeededGenerator(seed: 77)
    var decoded = 0
    for round in 0..<rounds {
      var bytes = Array(sources[round % 2].utf8)
      // Spans of numbers, or quoted strings, to replace.
      var spans: [Range<Int>] = []
      var index = 0
      while index < bytes.count {
        let start = index
        if bytes[index] == UInt8(ascii: "\"") {
          index += 1
          while index < bytes.count, bytes[index] != UInt8(ascii: "\"") { index += 1 }
          index += 1
          if index < bytes.count, bytes[index] != UInt8(ascii: ":") { spans.append(start..<index) }
        } else if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index])
          || bytes[index] == UInt8(ascii: "-")
        {
          while index < bytes.count, Set("-+.e0123456789".utf8).contains(bytes[index]) {
            index += 1
          }
          spans.append(start..<index)
        } else {
          index += 1
        }
      }
      let span = spans[Int(rng.next(upperBound: UInt64(spans.count)))]
      let text = replacements[Int(rng.next(upperBound: UInt64(replacements.count)))]
      bytes.replaceSubrange(span, with: Array(text.utf8))
      guard let state = try? JSONDecoder().decode(MonteCarloState.self, from: Data(bytes)) else {
        continue
      }
      decoded += 1
      _ = TruncatedMonteCarloShapley.result(state)
      _ = MaximumSampleReuseBanzhaf.result(state)
      _ = ClasswiseShapley.result(state, inClassScores: [0: 1, 1: -2])
      let channels = state.accumulator.channels.count
      let points = state.accumulator.pointCount
      let limit = (state.completed.ranges.last?.upperBound ?? 0) + 2
      _ = MonteCarloRunner.run(
        from: state, options: MonteCarloOptions(stopping: .maxSamples(limit), threads: 1),
        sample: { _ in
          (0..<points).map { SampleUpdate(point: $0, value: 0.25, channel: $0 % channels) }
        })
    }
    #expect(decoded > 0)
  }
}

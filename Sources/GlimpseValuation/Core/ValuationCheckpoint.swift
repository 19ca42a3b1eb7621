import GlimpseCore

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A Monte Carlo valuation's checkpoint: the runner's state plus what `merge` needs to write
/// the values without the data (sources, labels, class-wise normalisation).
public struct ValuationCheckpoint: Codable, Sendable {
  /// Identifies the file type.
  public var format = "glimpse-valuation-checkpoint"
  /// The format version (1).
  public var version = 1
  /// The method that wrote it (`tmc`, `classwise` or `banzhaf`).
  public var method: String
  /// The shard the state holds (`Shard.whole` after a merge).
  public var shard: GlimpseValuation.Shard
  /// Each training point's source (file or `path:line`), for the values file.
  public var sources: [String]
  /// Each training point's label name, for the values file.
  public var labels: [String]
  /// Class-wise Shapley's in-class scores of the model on all data, per label index.
  public var inClassScores: [String: Double]?
  /// The Monte Carlo state: sums, completed samples, time, status.
  public var state: MonteCarloState

  /// A checkpoint of `state` for `method` (`tmc`, `classwise` or `banzhaf`).
  public init(
    method: String, shard: GlimpseValuation.Shard, sources: [String], labels: [String],
    inClassScores: [Int: Double]?, state: MonteCarloState
  ) {
    self.method = method
    self.shard = shard
    self.sources = sources
    self.labels = labels
    self.inClassScores = inClassScores.map {
      Dictionary(uniqueKeysWithValues: $0.map { (String($0.key), $0.value) })
    }
    self.state = state
  }

  /// The in-class scores by class index.
  public var classScores: [Int: Double]? {
    // Keys are distinct integers in a checkpoint that `read` accepted; the first wins otherwise.
    inClassScores.map {
      Dictionary($0.compactMap { key, value in Int(key).map { ($0, value) } }) { first, _ in first }
    }
  }

  /// The methods that checkpoint, with their accumulator channel counts.
  public static let channelCounts = Dictionary(
    uniqueKeysWithValues: ValuationMethod.allCases.filter(\.isSampled).map {
      ($0.rawValue, $0.channelCount)
    })

  /// Decodes a checkpoint read from `path` and checks it field by field (`MonteCarloState`'s
  /// decoder checks the state against itself; this checks the rest against the state).
  /// - Throws: `FileContentError` naming the field.
  public static func decode(_ bytes: [UInt8], path: String) throws -> ValuationCheckpoint {
    let file: ValuationCheckpoint
    do {
      file = try JSONDecoder().decode(ValuationCheckpoint.self, from: Data(bytes))
    } catch {
      throw FileContentError(
        path: path,
        reason: "not a valid Glimpse valuation checkpoint: \(describeDecodingError(error))")
    }
    guard file.format == "glimpse-valuation-checkpoint", file.version == 1 else {
      throw FileContentError(path: path, reason: "not a Glimpse valuation checkpoint (version 1)")
    }
    if let why = file.problem {
      throw FileContentError(path: path, reason: "invalid checkpoint: \(why)")
    }
    return file
  }

  /// The checkpoint as JSON (keys sorted, so equal states give equal bytes).
  public func encoded() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return Array(try encoder.encode(self))
  }

  /// What is wrong with a decoded checkpoint, naming the field; `nil` when it is consistent.
  public var problem: String? {
    guard let channels = Self.channelCounts[method] else {
      return
        "field 'method' is \(quoted(method, delimiter: "\"")), expected tmc, banzhaf or classwise"
    }
    let points = state.accumulator.pointCount
    guard state.accumulator.channels.count == channels else {
      return
        "field 'state.accumulator' has \(state.accumulator.channels.count) channels, \(method) has \(channels)"
    }
    guard sources.count == points, labels.count == points else {
      return
        "fields 'sources' (\(sources.count)) and 'labels' (\(labels.count)) must list the \(points) points of 'state'"
    }
    if let inClassScores {
      var seen = Set<Int>()
      for (key, value) in inClassScores.sorted(by: { $0.key < $1.key }) {
        guard let label = Int(key), label >= 0, seen.insert(label).inserted else {
          return
            "field 'inClassScores' has the key \(quoted(key, delimiter: "\"")), expected distinct class indices"
        }
        guard value.isFinite else {
          return "field 'inClassScores' has \(value) for class \(key), expected a finite number"
        }
      }
    }
    return nil
  }

  /// Refuses a checkpoint that cannot continue this job: another method or point count (the
  /// fingerprint matches, but the file may have been edited).
  public func checkResumable(method: String, pointCount: Int, path: String) throws {
    guard self.method == method else {
      throw FileContentError(
        path: path, reason: "the checkpoint is of method \(self.method), not \(method)")
    }
    do {
      try state.check(pointCount: pointCount, channelCount: Self.channelCounts[method] ?? 1)
    } catch {
      throw FileContentError(path: path, reason: error.description)
    }
  }

  /// The values this checkpoint holds.
  public var result: ValuationResult {
    // `decode` accepts only sampled methods; TMC's plain means are the fallback for any other.
    (ValuationMethod(rawValue: method) ?? .tmc).result(of: state, inClassScores: classScores ?? [:])
  }
}

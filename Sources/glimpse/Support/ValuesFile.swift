import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseValuation

#if canImport(Glibc)
  import Glibc
#endif

/// A Monte Carlo valuation's checkpoint: the runner's state plus what `merge` needs to write
/// the values without the data (sources, labels, class-wise normalisation).
struct ValueCheckpoint: Codable {
  var format = "glimpse-valuation-checkpoint"
  var version = 1
  var method: String
  var shard: GlimpseValuation.Shard
  var sources: [String]
  var labels: [String]
  /// Class-wise Shapley's in-class scores of the model on all data, per label index.
  var inClassScores: [String: Double]?
  var state: MonteCarloState

  init(method: String, shard: GlimpseValuation.Shard, sources: [String], labels: [String], inClassScores: [Int: Double]?, state: MonteCarloState) {
    self.method = method
    self.shard = shard
    self.sources = sources
    self.labels = labels
    self.inClassScores = inClassScores.map { Dictionary(uniqueKeysWithValues: $0.map { (String($0.key), $0.value) }) }
    self.state = state
  }

  var classScores: [Int: Double]? {
    inClassScores.map { Dictionary($0.compactMap { key, value in Int(key).map { ($0, value) } }, uniquingKeysWith: { max($0, $1) }) }
  }

  static func read(_ path: String) throws -> ValueCheckpoint {
    let bytes = try FileBytes.readRaw(path)
    do {
      let file = try JSONDecoder().decode(ValueCheckpoint.self, from: Data(bytes))
      guard file.format == "glimpse-valuation-checkpoint", file.version == 1 else {
        throw CommandFailure(message: "\(path): not a Glimpse valuation checkpoint (version 1)", status: ExitStatus.badInput)
      }
      return file
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure(message: "\(path): not a Glimpse valuation checkpoint: \(error)", status: ExitStatus.badInput)
    }
  }

  /// Writes atomically: a kill mid-write leaves the previous checkpoint intact.
  func write(_ path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try AtomicFile.write(Array(try encoder.encode(self)), to: path)
  }

  /// The values this checkpoint holds.
  var result: ValuationResult {
    switch method {
    case "banzhaf": return MaximumSampleReuseBanzhaf.result(state)
    case "classwise": return ClasswiseShapley.result(state, inClassScores: classScores ?? [:])
    default: return TruncatedMonteCarloShapley.result(state)
    }
  }
}

/// The values CSV: `index,source,label,value,stderr,samples`.
enum ValuesFile {
  static let header = ["index", "source", "label", "value", "stderr", "samples"]

  static func write(_ result: ValuationResult, sources: [String], labels: [String], to path: String) throws {
    let rows = result.values.indices.map { i in
      [String(i), sources[i], labels[i], String(result.values[i]),
       result.standardErrors[i].isFinite ? String(result.standardErrors[i]) : "nan", String(result.sampleCounts[i])]
    }
    try AtomicFile.write(CSVWriter.text(header: header, rows: rows), to: path)
  }

  static func write(_ result: ValuationResult, training: Dataset, to path: String) throws {
    try write(result, sources: training.sources, labels: training.labels.map { training.classNames[$0] }, to: path)
  }

  /// Reads the `value` column of a values file written for `count` points.
  static func readValues(_ path: String, count: Int) throws -> [Double] {
    let table = try CSVReader.read(path, textColumns: ["source", "label", "stderr"])
    guard let column = table.numericColumnNames.firstIndex(of: "value") else {
      throw CommandFailure(message: "\(path):1: no numeric 'value' column (expected \(header.joined(separator: ",")))", status: ExitStatus.badInput)
    }
    guard table.rowCount == count else {
      throw CommandFailure(message: "\(path): \(table.rowCount) values for \(count) training points", status: ExitStatus.badInput)
    }
    return (0..<count).map { table.values[$0, column] }
  }

  static func printSummary(_ result: ValuationResult, training: Dataset, seconds: Double, flipped: [Bool]?) {
    let negative = result.values.count { $0 < 0 }
    let samples = result.status == .exact ? "exact" : "\(result.totalSamples) samples, \(result.status.rawValue)"
    print("  \(result.method): \(result.count) values in \(formatDuration(seconds)) (\(samples)); sum \(formatFixed(result.values.reduce(0, +), digits: 4)); \(negative) negative")
    let order = result.ascendingOrder
    let lowest = order.prefix(5).map { "\(training.sources[$0]) (\(training.classNames[training.labels[$0]])) \(formatFixed(result.values[$0], digits: 4))" }
    print("  lowest: \(lowest.joined(separator: ", "))")
    if let flipped {
      let detection = NoiseDetection(values: result.values, bad: flipped)
      print("  flipped labels: \(detection.badCount); ROC AUC of -value \(formatFixed(detection.rocAUC, digits: 3)); lowest 10 %: \(detection.lowestTenPercentHits)/\(detection.lowestTenPercentCount) flipped (precision \(formatFixed(detection.precisionAtTenPercent, digits: 2)), recall \(formatFixed(detection.recallAtTenPercent, digits: 2)))")
    }
  }
}

extension FileBytes {
  static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}


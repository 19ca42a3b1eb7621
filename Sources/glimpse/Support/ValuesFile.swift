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
    // Keys are distinct integers in a checkpoint that `read` accepted; the first wins otherwise.
    inClassScores.map {
      Dictionary($0.compactMap { key, value in Int(key).map { ($0, value) } }) { first, _ in first }
    }
  }

  /// The methods that checkpoint, with their accumulator channel counts.
  static let channelCounts = ["tmc": 1, "classwise": 1, "banzhaf": 2]

  /// Reads a checkpoint and checks it field by field (`MonteCarloState`'s decoder checks the
  /// state against itself; this checks the rest against the state).
  static func read(_ path: String) throws -> ValueCheckpoint {
    let bytes = try FileBytes.readRaw(path)
    let file: ValueCheckpoint
    do {
      file = try JSONDecoder().decode(ValueCheckpoint.self, from: Data(bytes))
    } catch {
      throw CommandFailure(
        message: "\(path): not a valid Glimpse valuation checkpoint: \(describeDecodingError(error))",
        status: ExitStatus.badInput)
    }
    guard file.format == "glimpse-valuation-checkpoint", file.version == 1 else {
      throw CommandFailure(message: "\(path): not a Glimpse valuation checkpoint (version 1)", status: ExitStatus.badInput)
    }
    if let why = file.problem {
      throw CommandFailure(message: "\(path): invalid checkpoint: \(why)", status: ExitStatus.badInput)
    }
    return file
  }

  /// What is wrong with a decoded checkpoint, naming the field; `nil` when it is consistent.
  var problem: String? {
    guard let channels = Self.channelCounts[method] else {
      return "field 'method' is \(quotedForMessage(method)), expected tmc, banzhaf or classwise"
    }
    let points = state.accumulator.pointCount
    guard state.accumulator.channels.count == channels else {
      return "field 'state.accumulator' has \(state.accumulator.channels.count) channels, \(method) has \(channels)"
    }
    guard sources.count == points, labels.count == points else {
      return "fields 'sources' (\(sources.count)) and 'labels' (\(labels.count)) must list the \(points) points of 'state'"
    }
    if let inClassScores {
      var seen = Set<Int>()
      for (key, value) in inClassScores.sorted(by: { $0.key < $1.key }) {
        guard let label = Int(key), label >= 0, seen.insert(label).inserted else {
          return "field 'inClassScores' has the key \(quotedForMessage(key)), expected distinct class indices"
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
  func checkResumable(method: String, pointCount: Int, path: String) throws {
    guard self.method == method else {
      throw CommandFailure(message: "\(path): the checkpoint is of method \(self.method), not \(method)", status: ExitStatus.badInput)
    }
    do {
      try state.check(pointCount: pointCount, channelCount: Self.channelCounts[method] ?? 1)
    } catch {
      throw CommandFailure(message: "\(path): \(error.description)", status: ExitStatus.badInput)
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

  /// Reads the `value` column of a values file written for `count` points, placed by the
  /// `index` column (rows may come in any order, each index in `0..<count` exactly once).
  static func readValues(_ path: String, count: Int) throws -> [Double] {
    func failure(_ message: String) -> CommandFailure {
      CommandFailure(message: "\(path)\(message)", status: ExitStatus.badInput)
    }
    let table = try CSVReader.read(path, textColumns: ["index", "source", "label", "stderr", "samples"])
    guard let column = table.numericColumnNames.firstIndex(of: "value") else {
      throw failure(":1: no numeric 'value' column (expected \(header.joined(separator: ",")))")
    }
    guard table.rowCount == count else {
      throw failure(": \(table.rowCount) values for \(count) training points")
    }
    guard let indices = table.textColumns["index"] else {
      // No index column: the rows are the points in order.
      return (0..<count).map { table.values[$0, column] }
    }
    var values = [Double](repeating: 0, count: count)
    var seen = [Bool](repeating: false, count: count)
    for (row, text) in indices.enumerated() {
      let line = row < table.lineNumbers.count ? ":\(table.lineNumbers[row])" : ""
      guard let index = Int(text.filter { $0 != " " }), (0..<count).contains(index) else {
        throw failure("\(line): index \(quotedForMessage(text)) is not a point number in 0..<\(count)")
      }
      guard !seen[index] else { throw failure("\(line): index \(index) appears twice") }
      seen[index] = true
      values[index] = table.values[row, column]
    }
    return values
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


/// `text` in double quotes for a one-line error message: at most 60 characters, control
/// characters and quotes escaped (`\n`, `\xNN`).
func quotedForMessage(_ text: String, limit: Int = 60) -> String {
  var result = ""
  for (position, scalar) in text.unicodeScalars.enumerated() {
    if position == limit {
      result += "…"
      break
    }
    switch scalar {
    case "\n": result += "\\n"
    case "\t": result += "\\t"
    case "\r": result += "\\r"
    case "\"", "\\": result += "\\" + String(scalar)
    default:
      if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
      } else {
        result.unicodeScalars.append(scalar)
      }
    }
  }
  return "\"\(result)\""
}

/// A JSON decoding error as one short line: where in the file and what, never the raw bytes.
func describeDecodingError(_ error: any Error) -> String {
  let context: DecodingError.Context
  switch error {
  case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c),
    DecodingError.keyNotFound(_, let c), DecodingError.dataCorrupted(let c):
    context = c
  default:
    return quotedForMessage("\(error)", limit: 80)
  }
  var path = ""
  for key in context.codingPath {
    if let index = key.intValue {
      path += "[\(index)]"
    } else {
      path += (path.isEmpty ? "" : ".") + key.stringValue
    }
  }
  if case DecodingError.keyNotFound(let key, _) = error {
    path += (path.isEmpty ? "" : ".") + key.stringValue
  }
  var what = context.debugDescription
  if case DecodingError.keyNotFound = error { what = "missing" }
  if what.isEmpty || what == "The given data was not valid JSON." {
    // The decoder says no more for malformed text and for numbers too large for their field.
    what = context.underlyingError.map { "not valid JSON (\($0))" }
      ?? "not valid JSON, or a number too large for its field"
  }
  let text = quotedForMessage(what, limit: 100).dropFirst().dropLast()
  return path.isEmpty ? String(text) : "field '\(path)': \(text)"
}

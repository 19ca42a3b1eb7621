import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseValuation

#if canImport(Glibc)
  import Glibc
#endif

extension ValuationCheckpoint {
  /// Reads and checks the checkpoint at `path`.
  static func read(_ path: String) throws -> ValuationCheckpoint {
    try decode(FileBytes.readRaw(path), path: path)
  }

  /// Writes atomically: a kill mid-write leaves the previous checkpoint intact.
  func write(_ path: String) throws {
    try AtomicFile.write(try encoded(), to: path)
  }
}

/// The values CSV: `index,source,label,value,stderr,samples`.
enum ValuesFile {
  static let header = ValuesTable.header

  static func write(_ result: ValuationResult, sources: [String], labels: [String], to path: String)
    throws
  {
    let rows = result.values.indices.map { i in
      [
        String(i), sources[i], labels[i], String(result.values[i]),
        result.standardErrors[i].isFinite ? String(result.standardErrors[i]) : "nan",
        String(result.sampleCounts[i]),
      ]
    }
    try AtomicFile.write(CSVWriter.text(header: header, rows: rows), to: path)
  }

  static func write(_ result: ValuationResult, training: Dataset, to path: String) throws {
    try write(
      result, sources: training.sources, labels: training.labels.map { training.classNames[$0] },
      to: path)
  }

  static func printSummary(
    _ result: ValuationResult, training: Dataset, seconds: Double, flipped: [Bool]?
  ) {
    let negative = result.values.count { $0 < 0 }
    let samples =
      result.status == .exact
      ? "exact" : "\(result.totalSamples) samples, \(result.status.rawValue)"
    print(
      "  \(result.method): \(result.count) values in \(formatDuration(seconds)) (\(samples)); sum \(formatFixed(result.values.reduce(0, +), digits: 4)); \(negative) negative"
    )
    let order = result.ascendingOrder
    let lowest = order.prefix(5).map {
      "\(training.sources[$0]) (\(training.classNames[training.labels[$0]])) \(formatFixed(result.values[$0], digits: 4))"
    }
    print("  lowest: \(lowest.joined(separator: ", "))")
    if let flipped {
      let detection = NoiseDetection(values: result.values, bad: flipped)
      print(
        "  flipped labels: \(detection.badCount); ROC AUC of -value \(formatFixed(detection.rocAUC, digits: 3)); lowest 10 %: \(detection.lowestTenPercentHits)/\(detection.lowestTenPercentCount) flipped (precision \(formatFixed(detection.precisionAtTenPercent, digits: 2)), recall \(formatFixed(detection.recallAtTenPercent, digits: 2)))"
      )
    }
  }
}

extension FileBytes {
  static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}

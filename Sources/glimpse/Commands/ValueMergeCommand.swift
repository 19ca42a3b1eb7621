import ArgumentParser
import GlimpseValuation

/// `glimpse value merge CHECKPOINT... --out values.csv`.
struct ValueMergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Merge the checkpoints of a sharded valuation (--shard k/n) into one values file.",
    discussion:
      "The merged values equal, bit for bit, those of one process with the same seed and budget.")

  @Argument(help: "The shards' checkpoint files.")
  var checkpoints: [String]

  @Option(help: "Where to write the merged values (CSV).")
  var out: String

  @Option(help: "Also write the merged checkpoint here.")
  var mergedCheckpoint: String?

  func run() throws {
    guard let first = checkpoints.first else {
      throw CommandFailure(message: "no checkpoints to merge", status: 64)
    }
    var merged = try ValuationCheckpoint.read(first)
    var shards = [merged.shard.index]
    for path in checkpoints.dropFirst() {
      let next = try ValuationCheckpoint.read(path)
      guard next.method == merged.method, next.shard.count == merged.shard.count else {
        throw CommandFailure(
          message:
            "\(path): \(next.method) shard of \(next.shard.count), but \(first) is \(merged.method) of \(merged.shard.count)",
          status: ExitStatus.badInput)
      }
      do { try merged.state.merge(next.state) } catch {
        throw CommandFailure(message: "\(path): \(error.description)", status: ExitStatus.badInput)
      }
      shards.append(next.shard.index)
    }
    let missing = Set(0..<merged.shard.count).subtracting(shards).sorted()
    if !missing.isEmpty {
      printError(
        "glimpse: warning: shards \(missing.map(String.init).joined(separator: ", ")) of \(merged.shard.count) are missing; the values use the samples present"
      )
    }
    merged.shard = GlimpseValuation.Shard.whole
    let result = merged.result
    try ValuesFile.write(result, sources: merged.sources, labels: merged.labels, to: out)
    if let mergedCheckpoint { try merged.write(mergedCheckpoint) }
    print(
      "merged \(checkpoints.count) checkpoints: \(result.totalSamples) samples, status \(result.status.rawValue); wrote \(out)"
    )
  }
}

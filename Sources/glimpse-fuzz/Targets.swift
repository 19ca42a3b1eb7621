import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseValuation

#if canImport(Glibc)
  import Glibc
#endif

/// One reader under test: how its inputs are mutated and fed to it.
///
/// A run passes when the reader returns a value or throws; it fails when the process traps,
/// aborts, runs out of its memory cap or hangs (the supervisor sees those).
struct FuzzTarget: Sendable {
  /// The name on the command line and of the corpus folder (`Tests/Fuzz/Corpus/<name>`).
  var name: String
  /// Whether the format is text (number and separator mutations apply).
  var text: Bool
  /// What it reads, for `glimpse-fuzz list`.
  var summary: String
  /// Repairs a mutated input's checksums, so mutations reach past the integrity check to the
  /// fields behind it (a header that checks out but lies).
  var repair: @Sendable ([UInt8]) -> [UInt8] = { $0 }
  /// Feeds one input to the reader. `scratch` is a private folder for files the reader opens.
  var run: @Sendable (_ input: [UInt8], _ scratch: String) throws -> Void
}

extension FuzzTarget {
  /// Every target, in the order the smoke run takes them.
  static let all: [FuzzTarget] = [
    FuzzTarget(name: "csv", text: true, summary: "a CSV table with a label column (DatasetReader)")
    {
      input, scratch in
      try readTable(input, path: scratch + "/table.csv")
    },
    FuzzTarget(name: "csv-gz", text: false, summary: "a gzip-compressed CSV table") {
      input, scratch in
      try readTable(input, path: scratch + "/table.csv.gz")
    },
    FuzzTarget(name: "csv-bz2", text: false, summary: "a bzip2-compressed CSV table") {
      input, scratch in
      try readTable(input, path: scratch + "/table.csv.bz2")
    },
    FuzzTarget(
      name: "labels", text: true,
      summary: "a pandas label table beside a fixed 4-row feature table (--labels)"
    ) { input, scratch in
      let features = scratch + "/features.csv"
      if access(features, F_OK) != 0 {
        try AtomicFile.write("f0,f1\n0,1\n1,0\n2,2\n3,1\n", to: features)
      }
      try write(input, to: scratch + "/labels.csv")
      var options = ReadOptions()
      options.labelsPath = scratch + "/labels.csv"
      _ = try DatasetReader.read(features, options: options)
    },
    FuzzTarget(
      name: "idx", text: false, summary: "an MNIST IDX image file with a fixed IDX label file"
    ) {
      input, scratch in
      let labels = scratch + "/labels.idx"
      if access(labels, F_OK) != 0 {
        // Magic 0x00000801 (unsigned bytes, one dimension), 4 labels.
        try write([0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 0, 1], to: labels)
      }
      try write(input, to: scratch + "/images.idx")
      var options = ReadOptions()
      options.labelsPath = labels
      _ = try DatasetReader.read(scratch + "/images.idx", options: options)
    },
    FuzzTarget(
      name: "png", text: false, summary: "a PNG file (decode, then resize to 28×28 as --size does)",
      repair: repairPNGChecksums
    ) { input, _ in
      try decodeAndResize(input)
    },
    FuzzTarget(name: "jpeg", text: false, summary: "a JPEG file (decode, then resize to 28×28)") {
      input, _ in
      try decodeAndResize(input)
    },
    FuzzTarget(
      name: "model", text: false,
      summary: "a model file of any kind with its CRC repaired (decode, then predict two rows)",
      repair: repairModelChecksum
    ) { input, _ in
      let (model, archive) = try ClassifierFile.decode(input)
      // A header that checks out but lies must fail at decode, not at the first prediction.
      guard archive.featureCount > 0, archive.featureCount <= 1 << 20 else { return }
      _ = model.predictProbabilities(Matrix(rows: 2, columns: archive.featureCount, repeating: 0.5))
    },
    FuzzTarget(
      name: "checkpoint", text: true,
      summary:
        "a valuation checkpoint (decode, check it can resume a job of its own size, compute its values)"
    ) { input, _ in
      let checkpoint = try ValuationCheckpoint.decode(input, path: "checkpoint.json")
      try checkpoint.checkResumable(
        method: checkpoint.method, pointCount: checkpoint.state.accumulator.pointCount,
        path: "checkpoint.json")
      _ = checkpoint.result
    },
    FuzzTarget(
      name: "values", text: true, summary: "a values CSV for 6 training points (clean --values)"
    ) {
      input, scratch in
      try write(input, to: scratch + "/values.csv")
      _ = try ValuesTable.readValues(scratch + "/values.csv", count: 6)
    },
    FuzzTarget(
      name: "split", text: true, summary: "a split JSON, checked against a 12-row dataset (--split)"
    ) {
      input, _ in
      let split = try SplitFile.decode(input, path: "split.json")
      try split.check(rows: 12, path: "split.json")
    },
  ]

  static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

private func write(_ bytes: [UInt8], to path: String) throws {
  guard let file = fopen(path, "wb") else { throw FuzzSetupError(path: path) }
  defer { fclose(file) }
  if !bytes.isEmpty { _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) } }
}

private struct FuzzSetupError: Error {
  var path: String
}

private func readTable(_ input: [UInt8], path: String) throws {
  try write(input, to: path)
  _ = try DatasetReader.read(path)
}

private func decodeAndResize(_ input: [UInt8]) throws {
  let image = try ImageFileFormat.decode(input)
  // Resizing is what every folder read with --size and every explain --image does next.
  if image.width > 0, image.height > 0, image.width * image.height <= 1 << 24 {
    _ = image.resized(height: 28, width: 28)
  }
}

/// Recomputes each PNG chunk's CRC-32 (over type and data), as far as the lengths allow.
@Sendable private func repairPNGChecksums(_ bytes: [UInt8]) -> [UInt8] {
  var bytes = bytes
  var offset = 8
  while offset + 12 <= bytes.count {
    let length =
      Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
      | Int(bytes[offset + 3])
    let end = offset + 8 + length
    guard length >= 0, end + 4 <= bytes.count else { break }
    let crc = CRC32.checksum(bytes[(offset + 4)..<end])
    for k in 0..<4 { bytes[end + k] = UInt8(truncatingIfNeeded: crc >> UInt32(24 - 8 * k)) }
    offset = end + 4
  }
  return bytes
}

/// Recomputes a model file's trailing CRC-32 over every byte before it.
@Sendable private func repairModelChecksum(_ bytes: [UInt8]) -> [UInt8] {
  guard bytes.count >= 4 else { return bytes }
  var bytes = bytes
  let crc = CRC32.checksum(bytes[..<(bytes.count - 4)])
  for k in 0..<4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * k)) }
  return bytes
}

import ArgumentParser
import FoundationEssentials
import Glibc
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseValuation

/// `glimpse clean TRAIN --values values.csv --test TEST --out cleaned.csv`.
struct CleanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "clean",
    abstract:
      "Drop low-valued training points, retrain, and compare test accuracy before and after.",
    discussion: """
      Reads TRAIN and its values (from `glimpse value`, one row per training point, same order), \
      drops the points whose value is below --threshold (0: the points that hurt), retrains \
      --model on all points and on the kept ones, and reports accuracy on the test set (--test, or \
      the test rows of --split after --validation-rows, which no valuation saw). When TRAIN is an \
      image folder, writes the kept images as a folder OUT/<class>/<name> (the original files, \
      byte for byte); when it is a table, the kept rows as a CSV table with label and source \
      columns, which every command reads. Either way a drop list (row, source, label, value; \
      row = index among the valued points, lowest value first) goes beside OUT. Never writes \
      over an input.
      """)

  @OptionGroup var data: ValuationDataOptions

  @Option(help: "The values file (index,source,label,value,...).")
  var values: String

  @Option(help: "Drop points valued below this.")
  var threshold = 0.0

  @OptionGroup var model: ValuationModelOptions

  @Option(
    help:
      "Where to write the cleaned training set: a folder when TRAIN is an image folder (must not exist or be empty), else a CSV table."
  )
  var out: String

  @Option(
    help:
      "Where to write the dropped points (CSV: row, source, label, value; default: OUT-dropped.csv)."
  )
  var dropList: String?

  /// The drop list's path: beside OUT, named after it.
  var dropListPath: String {
    if let dropList { return dropList }
    var base = out.count > 1 && out.hasSuffix("/") ? String(out.dropLast()) : out
    if base.lowercased().hasSuffix(".csv") { base = String(base.dropLast(4)) }
    return base + "-dropped.csv"
  }

  func run() throws {
    let folder = isDirectoryPath(data.dataOptions.data)
    try OutputGuard.refuse(
      [out, dropListPath], overwriting: inputs, folderOutput: folder ? out : nil)
    let sets = try data.load(needValidation: false, needTest: true)
    guard let test = sets.heldOut else { preconditionFailure("load(needTest:) returns a test set") }
    let training = sets.training
    let values = try ValuesTable.readValues(self.values, count: training.count)
    let cut = ValueThreshold(threshold)
    let kept = cut.kept(values)
    let dropped = training.count - kept.count
    guard kept.count >= 2, Set(kept.map { training.labels[$0] }).count >= 2 else {
      throw CommandFailure(
        message:
          "\(self.values): only \(kept.count) points have values ≥ \(threshold); nothing left to train on",
        status: 64)
    }
    let cleaned = training.subset(kept)
    let before = try accuracy(training, on: test)
    let after = try accuracy(cleaned, on: test)
    print(
      "clean: dropped \(dropped) of \(training.count) training points valued below \(threshold)")
    let droppedRows = cut.dropped(values)
    if let flipped = sets.flipped {
      let droppedFlipped = droppedRows.count { flipped[$0] }
      print("  of them flipped: \(droppedFlipped) (of \(flipped.count { $0 }) flipped in all)")
    }
    print(
      "  \(model.model.rawValue) test accuracy on \(test.count) rows: \(formatFixed(before, digits: 3)) with all points → \(formatFixed(after, digits: 3)) cleaned (\(after >= before ? "+" : "")\(formatFixed((after - before) * 100, digits: 1)) points)"
    )
    if folder {
      let copied = try Self.writeFolder(cleaned, to: out)
      print("  wrote \(out)/<class>/ (\(cleaned.count) images, \(copied) copied byte for byte)")
    } else {
      let header = (0..<cleaned.featureCount).map { "f\($0)" } + ["label", "source"]
      let rows = (0..<cleaned.count).map { row in
        cleaned.values(ofRow: row).map { String($0) } + [
          cleaned.classNames[cleaned.labels[row]], cleaned.sources[row],
        ]
      }
      try AtomicFile.write(CSVWriter.text(header: header, rows: rows), to: out)
      print("  wrote \(out) (\(cleaned.count) rows)")
    }
    let dropLines = droppedRows.map { row in
      [
        String(row), training.sources[row], training.classNames[training.labels[row]],
        String(values[row]),
      ]
    }
    try AtomicFile.write(
      CSVWriter.text(header: ["row", "source", "label", "value"], rows: dropLines), to: dropListPath
    )
    print("  wrote \(dropListPath) (\(droppedRows.count) dropped, lowest value first)")
  }

  /// Every file this run reads.
  private var inputs: [String] {
    let d = data
    return [
      d.dataOptions.data, values, d.valid, d.test, d.split, d.dataOptions.reading.labels,
      d.validLabels, d.testLabels,
    ]
    .compactMap { $0 }
  }

  /// Writes the kept images as `root/<class>/<name>`: the source file's bytes when the row came
  /// from an image file that is still there (no re-encoding, no resize), else the row as a PNG.
  /// Returns how many were copied.
  static func writeFolder(_ kept: Dataset, to root: String) throws -> Int {
    let root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    var used = Set<String>()
    var copied = 0
    for row in 0..<kept.count {
      var folder = kept.classNames[kept.labels[row]].split(
        separator: "/", omittingEmptySubsequences: false
      )
      .joined(separator: "_")
      // A class named "", "." or ".." must not name OUT itself or its parent.
      if folder.allSatisfy({ $0 == "." }) { folder = "_" + folder }
      let source = kept.sources[row]
      var bytes: [UInt8]?
      var name = "row-\(row).png"
      if ImageFileFormat(pathExtensionOf: source) != nil, FileBytes.exists(source) {
        bytes = try FileBytes.readRaw(source)
        name = AtomicFile.lastComponent(of: source)
        copied += 1
      } else if let image = kept.image(at: row) {
        do {
          bytes = try PNGCodec.encode(image)
        } catch {
          throw CommandFailure(message: "\(root)/\(folder)/\(name): \(error.reason)", status: 74)
        }
      }
      guard let bytes else {
        throw CommandFailure(
          message:
            "\(source): row \(row) is neither an image file nor an image row; cannot write it to \(root)",
          status: ExitStatus.badInput)
      }
      // Two kept files of one class with the same name (from different folders): keep both.
      if used.contains("\(folder)/\(name)") {
        let dot = name.lastIndex(of: ".") ?? name.endIndex
        name = String(name[..<dot]) + "-\(row)" + String(name[dot...])
      }
      used.insert("\(folder)/\(name)")
      try AtomicFile.write(bytes, to: "\(root)/\(folder)/\(name)")
    }
    return copied
  }

  private func accuracy(_ training: Dataset, on test: Dataset) throws -> Double {
    guard let accuracy = model.family.accuracy(trainedOn: training, testedOn: test) else {
      throw CommandFailure(
        message:
          "\(data.dataOptions.data): --model \(model.model.rawValue) could not be trained on \(training.count) points",
        status: ExitStatus.badInput)
    }
    return accuracy
  }
}

/// Refuses the outputs of `clean` that the shared input protection does not: a cleaned set and
/// a drop list on the same file, a folder output that holds an input (it would write around it),
/// and a folder output that already has entries. An output that is an input, or lies inside an
/// input folder, is refused for every command before it runs (`CommandFiles`, `InputProtection`).
enum OutputGuard {
  static func refuse(_ outputs: [String], overwriting inputs: [String], folderOutput: String?)
    throws
  {
    for (a, b) in zip(outputs, outputs.dropFirst()) where resolved(a) == resolved(b) {
      throw CommandFailure(
        message: "\(a): the cleaned set and the drop list would be the same file; pass --drop-list",
        status: 64)
    }
    guard let folder = folderOutput else { return }
    let target = resolved(folder)
    for input in inputs where resolved(input).hasPrefix(target + "/") {
      throw CommandFailure(
        message:
          "\(folder): is inside or around an input of this run (\(input)); choose another --out",
        status: ExitStatus.badInput)
    }
    if FileBytes.exists(folder) {
      guard isDirectoryPath(folder) else {
        throw CommandFailure(
          message: "\(folder): exists and is not a folder; choose another --out", status: 64)
      }
      if let entries = try? FileManager.default.contentsOfDirectory(atPath: folder),
        !entries.isEmpty
      {
        throw CommandFailure(
          message: "\(folder): directory exists and is not empty; choose another --out", status: 64)
      }
    }
  }

  /// The absolute path with links resolved; for a path that does not exist yet, its existing
  /// parent resolved and the rest appended.
  static func resolved(_ path: String) -> String {
    var trimmed = path
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    if let real = realpath(trimmed, nil) {
      defer { free(real) }
      return String(cString: real)
    }
    guard let slash = trimmed.lastIndex(of: "/") else {
      return resolved(".") + "/" + trimmed
    }
    let parent = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    let rest = String(trimmed[trimmed.index(after: slash)...])
    let base = resolved(parent)
    return (base == "/" ? "" : base) + "/" + rest
  }
}

import ArgumentParser
import GlimpseData

/// The files a command reads and the paths it writes, so that `Glimpse.execute` can refuse an
/// output that names an input before any work starts (`InputProtection`).
///
/// Every subcommand conforms (a test checks it). The lists are kept here, one table for the
/// whole tool, so a reader sees every command's inputs and outputs side by side. Outputs derived
/// later (a sidecar beside `--out`, a checkpoint beside the values) are covered all the same:
/// while a command runs, `AtomicFile` refuses any write onto its inputs or into its input folders.
protocol CommandFiles {
  /// Files and folders the command reads (nil for options not given).
  var inputPaths: [String?] { get }
  /// Files and folders the command writes (nil for options not given).
  var outputPaths: [String?] { get }
}

extension ReadingOptions {
  /// The label table, when there is one.
  var inputPaths: [String?] { [labels] }
}

extension DataOptions {
  /// DATA and its label table.
  var inputPaths: [String?] { [data] + reading.inputPaths }
}

extension ValuationDataOptions {
  /// TRAIN, the validation and test sets, their label tables and the split.
  var inputPaths: [String?] {
    dataOptions.inputPaths + [valid, validLabels, test, testLabels, split]
  }
}

extension ImageChoice {
  /// The dataset or image file the explained image comes from.
  var inputPaths: [String?] { [data, image] + reading.inputPaths }
}

extension NeighborOptions {
  /// The values file and the training data whose neighbours are shown.
  var inputPaths: [String?] { [values, train, trainLabels] }
}

extension InfoCommand: CommandFiles {
  var inputPaths: [String?] { dataOptions.inputPaths }
  var outputPaths: [String?] { [sheet] }
}

extension ExportCommand: CommandFiles {
  var inputPaths: [String?] { dataOptions.inputPaths }
  var outputPaths: [String?] { [to] }
}

extension TrainCommand: CommandFiles {
  var inputPaths: [String?] { dataOptions.inputPaths + [split, test, testLabels] }
  var outputPaths: [String?] { [out] }
}

extension EvaluateCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath, split] + dataOptions.inputPaths }
  var outputPaths: [String?] { [confusion] }
}

extension PredictCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath] + dataOptions.inputPaths }
  var outputPaths: [String?] { [out] }
}

extension EmbedCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath] + dataOptions.inputPaths }
  var outputPaths: [String?] { [out] }
}

extension AmbiguousCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath, split] + dataOptions.inputPaths }
  var outputPaths: [String?] { [out] }
}

extension ExplainCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath] + choice.inputPaths + neighborOptions.inputPaths }
  var outputPaths: [String?] { [out] }
}

extension CompareSegmentersCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath] + choice.inputPaths + neighborOptions.inputPaths }
  var outputPaths: [String?] { [out] }
}

extension AuditCommand: CommandFiles {
  var inputPaths: [String?] { dataOptions.inputPaths + [test, testLabels, labelsB] }
  var outputPaths: [String?] { [out] }
}

extension ExplainBatchCommand: CommandFiles {
  var inputPaths: [String?] { [modelPath, data, folder, split] + reading.inputPaths }
  var outputPaths: [String?] { [out] }
}

extension SegmentCommand: CommandFiles {
  var inputPaths: [String?] { [image] }
  var outputPaths: [String?] { [out] }
}

extension GalleryCommand: CommandFiles {
  // The gallery's page is written into the folder it lists, by design.
  var inputPaths: [String?] { [] }
  var outputPaths: [String?] { [] }
}

extension ValueRunCommand: CommandFiles {
  var inputPaths: [String?] { data.inputPaths }
  // The checkpoint is read back on --resume, but it is this command's own output.
  var outputPaths: [String?] { [out, checkpoint, sheet, removalCurve] }
}

extension ValueMergeCommand: CommandFiles {
  var inputPaths: [String?] { checkpoints }
  var outputPaths: [String?] { [out, mergedCheckpoint] }
}

extension CleanCommand: CommandFiles {
  var inputPaths: [String?] { data.inputPaths + [values] }
  var outputPaths: [String?] { [out, dropListPath] }
}

extension DemoCommand: CommandFiles {
  var inputPaths: [String?] { [samples] }
  var outputPaths: [String?] { [output] }
}

extension CommandFiles {
  /// Refuses outputs that are inputs, then protects the inputs until the registration is
  /// released.
  func protectInputs() throws -> InputProtection.Registration {
    try InputProtection.check(
      outputs: outputPaths.compactMap { $0 }, inputs: inputPaths.compactMap { $0 })
  }
}

import ArgumentParser
import GlimpseCore
import GlimpseData

extension ImageShape: ExpressibleByArgument {
  public init?(argument: String) { self.init(parsing: argument) }
}

/// How to read a dataset (everything but its path); shared by every command that reads data.
struct ReadingOptions: ParsableArguments {
  @Option(help: "A label table (pandas layout) or IDX label file aligned with DATA's rows.")
  var labels: String?

  @Option(help: "The label column of a table that holds features and labels together.")
  var labelColumn = "label"

  @Option(
    help: ArgumentHelp(
      "Image shape of a table's rows, HxW or HxWxC (height × width × channels); inferred when the width is a square.",
      valueName: "HxWxC"))
  var shape: ImageShape?

  @Flag(help: "Keep 8-bit image tables in 0-255 instead of scaling them to [0, 1].")
  var raw = false

  @Flag(help: "Convert images to one grey channel (BT.601 luma).")
  var gray = false

  @Option(
    help: ArgumentHelp(
      "Resize folder images to height × width (antialiased bilinear); needed when sizes differ.",
      valueName: "HxW"))
  var size: ImageShape?

  var readOptions: ReadOptions {
    var options = ReadOptions()
    options.labelsPath = labels
    options.labelColumn = labelColumn
    options.shape = shape
    options.raw = raw
    options.gray = gray
    if let size { options.size = (size.height, size.width) }
    return options
  }
}

/// Where a dataset comes from and how to read it.
struct DataOptions: ParsableArguments {
  @Argument(
    help: ArgumentHelp(
      "A CSV table (.csv/.gz/.bz2), an MNIST IDX file, or an image folder root/<class>/*.png|jpg.",
      valueName: "data"))
  var data: String

  @OptionGroup var reading: ReadingOptions

  var readOptions: ReadOptions { reading.readOptions }

  /// Reads the dataset, reports skipped files on standard error, and returns it.
  func load() throws -> DatasetReading {
    let reading = try DatasetReader.read(data, options: readOptions)
    reportSkipped(reading.skipped)
    return reading
  }

  /// A short name for output files: the last path component without extensions.
  var stem: String { fileStem(data) }
}

/// The last path component without extensions (`a/b/digits.csv.bz2` → `digits`).
func fileStem(_ path: String) -> String {
  var name = path.hasSuffix("/") ? String(path.dropLast()) : path
  if let slash = name.lastIndex(of: "/") { name = String(name[name.index(after: slash)...]) }
  if let dot = name.firstIndex(of: "."), dot != name.startIndex { name = String(name[..<dot]) }
  return name.isEmpty ? "data" : name
}

/// Lists skipped files on standard error, one per line.
func reportSkipped(_ skipped: [SkippedFile]) {
  guard !skipped.isEmpty else { return }
  SkippedItems.record(skipped.count)  // the command then exits 3 (partial)
  printError("glimpse: skipped \(skipped.count) unreadable file\(skipped.count == 1 ? "" : "s"):")
  for file in skipped { printError("  \(file)") }
}

import ArgumentParser
import GlimpseCore
import GlimpseData

extension ImageShape: ExpressibleByArgument {
  /// Parses `HxWxC` (or `HxW`, one channel), as `ImageShape(parsing:)`.
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

  @Option(
    help: ArgumentHelp(
      "How image table values are scaled: auto (÷255 for 0-255 pixels with a maximum over 16, "
        + "÷max for 0-16 data, else kept), 255, max, none.",
      valueName: "mode"))
  var scale: ScaleMode = .auto

  @Flag(help: "Keep image tables as they are: the same as --scale none.")
  var raw = false

  @Option(
    help: ArgumentHelp(
      "Refuse images whose header claims more pixels (height × width) than this.",
      valueName: "n"))
  var maxPixels = ReadLimits.defaultMaxPixels

  @Option(
    help: ArgumentHelp(
      "Memory budget for a dataset (e.g. 4G, 512M); files decompressing past a fifth of it are refused.",
      valueName: "size"))
  var maxMemory = ByteSize(bytes: ReadLimits.defaultMemoryBudget)

  @Flag(help: "Convert images to one grey channel (BT.601 luma).")
  var gray = false

  @Option(
    help: ArgumentHelp(
      "Resize folder images to height × width (antialiased bilinear); needed when sizes differ.",
      valueName: "HxW"))
  var size: ImageShape?

  func validate() throws {
    guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    if raw && scale != .auto && scale != .none {
      throw ValidationError("--raw is --scale none; it conflicts with --scale \(scale.rawValue)")
    }
  }

  var readOptions: ReadOptions {
    var options = ReadOptions()
    options.labelsPath = labels
    options.labelColumn = labelColumn
    options.shape = shape
    options.scale = raw ? .none : scale
    options.limits.maxPixels = maxPixels
    options.limits.memoryBudget = maxMemory.bytes
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

  /// Reads the dataset, reports skipped files and the scaling chosen on standard error, and
  /// returns it.
  func load() throws -> DatasetReading {
    let reading = try DatasetReader.read(data, options: readOptions)
    reportSkipped(reading.skipped)
    reportScaling(reading.scaling)
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

/// Says on standard error, in one line, how an image table's values were scaled (nothing for
/// folders and tables that are not images).
func reportScaling(_ scaling: Scaling?) {
  guard let scaling else { return }
  printError("glimpse: values \(scaling)")
}

extension ScaleMode: ExpressibleByArgument {}

/// A byte count given as `4G`, `512M`, `100K` or plain bytes (binary units).
struct ByteSize: ExpressibleByArgument, Sendable {
  var bytes: Int

  init(bytes: Int) { self.bytes = bytes }

  init?(argument: String) {
    var number = Substring(argument.uppercased())
    if number.hasSuffix("B") { number = number.dropLast() }  // "4GB", "4GiB"
    if number.hasSuffix("I") { number = number.dropLast() }
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var unit = 1
    if let last = number.last, let scale = units[last] {
      unit = scale
      number = number.dropLast()
    }
    guard let value = Double(number), value.isFinite, value > 0,
      value * Double(unit) < 9e18
    else { return nil }
    bytes = Int(value * Double(unit))
  }

  var defaultValueDescription: String {
    bytes % (1 << 30) == 0 ? "\(bytes >> 30)G" : "\(bytes)"
  }
}

/// Lists skipped files on standard error, one per line.
func reportSkipped(_ skipped: [SkippedFile]) {
  guard !skipped.isEmpty else { return }
  SkippedItems.record(skipped.count)  // the command then exits 3 (partial)
  printError("glimpse: skipped \(skipped.count) unreadable file\(skipped.count == 1 ? "" : "s"):")
  for file in skipped { printError("  \(oneLine(file.description))") }
}

import GlimpseCore

/// How a dataset is read: where the labels are, how rows fold into images, how images are
/// brought to one size and channel count, and the limits that keep a hostile file from
/// exhausting memory. The defaults suit the common cases.
public struct ReadOptions: Sendable {
  /// A separate label table or IDX label file (pandas layout: index column + one label column).
  public var labelsPath: String?
  /// The label column's name, in a table that holds features and labels together.
  public var labelColumn = "label"
  /// The image shape of a table's rows; inferred when the width is a square (784 → 28×28).
  public var shape: ImageShape?
  /// How the values of an image table or IDX file are scaled (see `ScaleMode`).
  public var scale = ScaleMode.auto
  /// Convert every image to one grey channel.
  public var gray = false
  /// Resize every image of a folder to this height and width.
  public var size: (height: Int, width: Int)?
  /// Refuse datasets with fewer classes than this (a classifier needs two).
  public var minimumClassCount = 2
  /// When false, data without labels is read with every row in one unnamed class (`""`), for
  /// predicting on new data; a flat folder of images is then allowed too.
  public var requireLabels = true
  /// Sizes that are refused before anything is allocated for them.
  public var limits = ReadLimits()

  /// Keep image tables as they are: the older spelling of `scale = .none`.
  public var raw: Bool {
    get { scale == .none }
    set { scale = newValue ? .none : .auto }
  }

  /// The defaults.
  public init() {}
}

/// Limits checked against a file's claims (header sizes, decompressed sizes) before any memory
/// is allocated for them, so that a bomb is refused with a message instead of exhausting memory.
public struct ReadLimits: Sendable, Equatable {
  /// The default `maxPixels`: 100 M pixels (10 000 × 10 000), about a 300 MB RGB decode.
  public static let defaultMaxPixels = 100_000_000
  /// The default `memoryBudget`: 4 GiB.
  public static let defaultMemoryBudget = 4 << 30

  /// The most pixels (height × width) one image may claim.
  public var maxPixels = ReadLimits.defaultMaxPixels
  /// The bytes a whole dataset may occupy once read (as doubles, plus the text it came from).
  public var memoryBudget = ReadLimits.defaultMemoryBudget
  /// The longest line of a table: a 262 144-column row of 20-digit numbers is about 5.5 MB.
  public var maxLineLength = 16 << 20
  /// The most columns of a table (a 512 × 512 grey image per row).
  public var maxColumns = 1 << 18

  /// The most bytes a file may hold after decompression. A table's text becomes at most 4 bytes
  /// of doubles per byte of text (`0,` is 2 bytes, one 8-byte double), so text and matrix fit
  /// the budget together when the text is at most a fifth of it.
  public var maxFileBytes: Int { max(memoryBudget / 5, 1) }

  /// The defaults.
  public init() {}
}

/// How the values of an image table (or IDX file) are scaled when read.
///
/// `auto` applies only to image rows (a shape given or inferred) whose values are all integers
/// in 0...255: they are divided by 255 when the maximum is over 16, else by the dataset's maximum
/// (scikit-learn's digits are 0–16, which `/ 255` would squash into [0, 0.063]). Values outside
/// 0...255 (negative, or 16-bit) or not whole numbers are kept as they are, and the returned
/// `Scaling` says so and why: they are not 8-bit pixels, and guessing a range (min–max) would
/// change what the numbers mean; pass `.max` or `.by255` to scale them anyway.
public enum ScaleMode: String, Sendable, CaseIterable {
  /// 255 for 8-bit pixels with a maximum over 16, the dataset's maximum for 0–16 data, else none.
  case auto
  /// Divide by 255.
  case by255 = "255"
  /// Divide by the largest absolute value (when it is positive).
  case max
  /// Keep the values as they are.
  case none
}

/// The scaling a reader applied, and why (for one line of output).
public struct Scaling: Sendable, Equatable, CustomStringConvertible {
  /// What every value was divided by; `nil` when the values were kept.
  public var divisor: Double?
  /// Why this was chosen, e.g. "auto: integers 0–255".
  public var reason: String

  /// A scaling and its reason.
  public init(divisor: Double?, reason: String) {
    self.divisor = divisor
    self.reason = reason
  }

  /// One line: `divided by 255 (auto: integers 0–255)` or `kept as they are (...)`.
  public var description: String {
    let what = divisor.map { "divided by \(formatNumber($0))" } ?? "kept as they are"
    return "\(what) (\(reason))"
  }
}

/// A number without a trailing `.0` when it is whole.
func formatNumber(_ value: Double) -> String {
  if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
  return String(value)
}

/// A dataset and the files that were skipped on the way (a folder with a few bad images).
public struct DatasetReading: Sendable {
  /// The rows read.
  public var dataset: Dataset
  /// Files passed over, with the reason each could not be read.
  public var skipped: [SkippedFile]
  /// How table or IDX values were scaled; `nil` for folders (decoded to [0, 1]) and tables that
  /// are not images.
  public var scaling: Scaling?

  /// Pairs a dataset with its skipped files and scaling.
  public init(dataset: Dataset, skipped: [SkippedFile] = [], scaling: Scaling? = nil) {
    self.dataset = dataset
    self.skipped = skipped
    self.scaling = scaling
  }
}

/// A file passed over while reading a folder.
public struct SkippedFile: Sendable, Equatable, CustomStringConvertible {
  /// The file.
  public var path: String
  /// What was wrong with it.
  public var reason: String

  /// A skipped file and why.
  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }
  /// `path: reason`.
  public var description: String { "\(path): \(reason)" }
}

/// Turns label strings into class indices by one rule: when every label (spaces trimmed) is a
/// finite number, labels are compared as numbers, so `0`, `00` and `+0` are one class and `3`
/// and `3.0` are one class (as pandas reads such a column), named by the number's shortest
/// spelling (`3`, `0.5`) and sorted numerically ("2" before "10"). Otherwise they are compared
/// as text, verbatim, sorted in code-point order (Python's `sorted`). Both match scikit-learn's
/// `classes_`.
enum LabelEncoder {
  static func encode(_ labels: [String]) -> (labels: [Int], classNames: [String]) {
    let distinct = Array(Set(labels))
    var numbers = [String: Double]()
    for label in distinct {
      guard let value = numericValue(label) else { break }
      numbers[label] = value
    }
    if numbers.count == distinct.count, !distinct.isEmpty {
      // -0 and 0 are one class: adding 0 turns -0 into +0.
      let values = Set(numbers.values.map { $0 + 0 }).sorted()
      var index = [Double: Int]()
      for (position, value) in values.enumerated() { index[value] = position }
      let encoded = labels.map { label in index[(numbers[label] ?? 0) + 0] ?? 0 }
      return (encoded, values.map(formatNumber))
    }
    let names = distinct.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    var index = [String: Int]()
    for (position, name) in names.enumerated() { index[name] = position }
    return (labels.map { index[$0] ?? 0 }, names)
  }

  /// The label as a finite number, when it is one (`"007"`, `"3.0"`, `"-1e3"`; not `"nan"`).
  static func numericValue(_ label: String) -> Double? {
    let trimmed = label.trimmingSpaces()
    guard !trimmed.isEmpty,
      trimmed.utf8.allSatisfy({ byte in
        (48...57).contains(byte) || byte == 0x2E || byte == 0x2B || byte == 0x2D || byte == 0x65
          || byte == 0x45
      }), let value = Double(trimmed), value.isFinite
    else { return nil }
    return value
  }
}

extension Dataset {
  /// Checks the class count against the options; `labelsPath` names the file the labels came
  /// from (a separate label table), which is the file to fix when there is one class.
  func checkClasses(path: String, labelsPath: String? = nil, options: ReadOptions) throws {
    guard count > 0 else { throw DataError.emptyDataset(path: path) }
    guard options.requireLabels else { return }
    let present = classCounts.filter { $0 > 0 }.count
    if present < options.minimumClassCount, present == 1,
      let only = classCounts.firstIndex(where: { $0 > 0 })
    {
      throw DataError.singleClass(path: labelsPath ?? path, className: classNames[only])
    }
  }
}

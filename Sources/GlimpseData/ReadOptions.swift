import GlimpseCore

/// How a dataset is read: where the labels are, how rows fold into images, how images are
/// brought to one size and channel count. The defaults suit the common cases.
public struct ReadOptions: Sendable {
  /// A separate label table or IDX label file (pandas layout: index column + one label column).
  public var labelsPath: String?
  /// The label column's name, in a table that holds features and labels together.
  public var labelColumn = "label"
  /// The image shape of a table's rows; inferred when the width is a square (784 → 28×28).
  public var shape: ImageShape?
  /// Keep 8-bit image tables as they are instead of scaling them to [0, 1].
  public var raw = false
  /// Convert every image to one grey channel.
  public var gray = false
  /// Resize every image of a folder to this height and width.
  public var size: (height: Int, width: Int)?
  /// Refuse datasets with fewer classes than this (a classifier needs two).
  public var minimumClassCount = 2
  /// When false, data without labels is read with every row in one unnamed class (`""`), for
  /// predicting on new data; a flat folder of images is then allowed too.
  public var requireLabels = true

  /// The defaults.
  public init() {}
}

/// A dataset and the files that were skipped on the way (a folder with a few bad images).
public struct DatasetReading: Sendable {
  /// The rows read.
  public var dataset: Dataset
  /// Files passed over, with the reason each could not be read.
  public var skipped: [SkippedFile]

  /// Pairs a dataset with its skipped files.
  public init(dataset: Dataset, skipped: [SkippedFile] = []) {
    self.dataset = dataset
    self.skipped = skipped
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

/// Turns label strings into class indices. Integer labels sort numerically ("2" before "10"),
/// others as strings (code-point order, as Python's `sorted`), which matches scikit-learn's
/// `classes_` for both.
enum LabelEncoder {
  static func encode(_ labels: [String]) -> (labels: [Int], classNames: [String]) {
    let distinct = Array(Set(labels))
    let integers = distinct.compactMap { Int($0) }
    let names: [String]
    if integers.count == distinct.count {
      let sorted = integers.sorted()
      // Canonical spelling: "05" and "5" would be the same class to pandas.
      let canonical = Dictionary(uniqueKeysWithValues: distinct.map { ($0, String(Int($0)!)) })
      names = sorted.map(String.init)
      let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
      return (labels.map { index[canonical[$0]!]! }, names)
    }
    names = distinct.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    return (labels.map { index[$0]! }, names)
  }
}

extension Dataset {
  /// Checks the class count against the options.
  func checkClasses(path: String, options: ReadOptions) throws {
    guard count > 0 else { throw DataError.emptyDataset(path: path) }
    guard options.requireLabels else { return }
    let present = classCounts.filter { $0 > 0 }.count
    if present < options.minimumClassCount, present == 1,
      let only = classCounts.firstIndex(where: { $0 > 0 })
    {
      throw DataError.singleClass(path: path, className: classNames[only])
    }
  }
}

import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseModels

/// A train/test split read from JSON (`{"train": [rows], "test": [rows]}`, as
/// `samples/mnist/split.json`).
struct SplitFile: Decodable {
  var train: [Int]
  var test: [Int]
  /// Training labels with some flipped, for valuation experiments (`samples/mnist/split.json`).
  var noisy: NoisyLabels?

  struct NoisyLabels: Decodable {
    /// Label values (class names as integers), aligned with `train`.
    var trainLabelsNoisy: [Int]
    var trainLabelsClean: [Int]

    enum CodingKeys: String, CodingKey {
      case trainLabelsNoisy = "train_labels_noisy"
      case trainLabelsClean = "train_labels_clean"
    }
  }

  enum CodingKeys: String, CodingKey { case train, test, noisy }

  /// Row lists are read as numbers and then checked to be row numbers, so that `1.5` or
  /// `1e30` is reported by field (the JSON decoder would only say the data is not valid JSON).
  init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    func rows(_ key: CodingKeys) throws -> [Int] {
      let numbers = try container.decode([Double].self, forKey: key)
      return try numbers.enumerated().map { position, number in
        // 2⁵³: every integer below is exact in a double, and no dataset has that many rows.
        guard number.rounded() == number, abs(number) < 0x1p53 else {
          throw DecodingError.dataCorrupted(
            .init(
              codingPath: [key, IndexKey(position)],
              debugDescription: "\(number) is not a row number"))
        }
        return Int(number)
      }
    }
    train = try rows(.train)
    test = try rows(.test)
    noisy = try container.decodeIfPresent(NoisyLabels.self, forKey: .noisy)
  }

  /// A position in a JSON array, for error paths.
  struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
  }

  static func read(_ path: String) throws -> SplitFile {
    let bytes = try FileBytes.readRaw(path)
    let split: SplitFile
    do {
      split = try JSONDecoder().decode(SplitFile.self, from: Data(bytes))
    } catch {
      throw CommandFailure(
        message: "\(path): not a split file ({\"train\": [rows], \"test\": [rows]}): \(describeDecodingError(error))",
        status: ExitStatus.badInput)
    }
    if let why = split.problem {
      throw CommandFailure(message: "\(path): \(why)", status: ExitStatus.badInput)
    }
    return split
  }

  /// What is wrong with the row lists on their own (negative or repeated rows, a row in both
  /// lists, noisy labels not one per train row); `nil` when nothing is.
  var problem: String? {
    var trainRows = Set<Int>()
    for (position, row) in train.enumerated() {
      guard row >= 0 else { return "field 'train[\(position)]' is \(row), expected a row number ≥ 0" }
      guard trainRows.insert(row).inserted else { return "field 'train' lists row \(row) twice" }
    }
    var testRows = Set<Int>()
    for (position, row) in test.enumerated() {
      guard row >= 0 else { return "field 'test[\(position)]' is \(row), expected a row number ≥ 0" }
      guard testRows.insert(row).inserted else { return "field 'test' lists row \(row) twice" }
      guard !trainRows.contains(row) else { return "row \(row) is in both 'train' and 'test'" }
    }
    if let noisy {
      guard noisy.trainLabelsNoisy.count == train.count else {
        return "field 'noisy.train_labels_noisy' has \(noisy.trainLabelsNoisy.count) labels for \(train.count) train rows"
      }
      guard noisy.trainLabelsClean.count == train.count else {
        return "field 'noisy.train_labels_clean' has \(noisy.trainLabelsClean.count) labels for \(train.count) train rows"
      }
    }
    return nil
  }

  /// Checks every row number against the dataset's size.
  func check(rows: Int, path: String) throws {
    for (name, list) in [("train", train), ("test", test)] {
      if let position = list.firstIndex(where: { $0 < 0 || $0 >= rows }) {
        throw CommandFailure(
          message: "\(path): field '\(name)[\(position)]': row \(list[position]) is outside the data's 0..<\(rows)",
          status: ExitStatus.badInput)
      }
    }
  }
}

extension Dataset {
  /// The same rows with labels re-indexed into `classNames` (a test set read on its own may list
  /// its classes differently); a class the model does not know is an error.
  func aligned(to classNames: [String], path: String) throws -> Dataset {
    guard classNames != self.classNames else { return self }
    // Model files refuse repeated class names; the first would win here.
    let index = Dictionary(classNames.enumerated().map { ($1, $0) }) { first, _ in first }
    var mapped: [Int] = []
    for label in labels {
      guard let target = index[self.classNames[label]] else {
        throw CommandFailure(
          message: "\(path): class '\(self.classNames[label])' is not one of the model's classes (\(classNames.joined(separator: ", ")))",
          status: ExitStatus.badInput)
      }
      mapped.append(target)
    }
    return Dataset(features: features, labels: mapped, classNames: classNames, imageShape: imageShape, sources: sources)
  }
}

/// Loads a model file.
func loadModel(_ path: String) throws -> (model: any Classifier, archive: ModelArchive) {
  try decodeModel(FileBytes.readRaw(path), path: path)
}

/// Decodes a model file's bytes, naming the file in the error.
func decodeModel(_ bytes: [UInt8], path: String) throws -> (model: any Classifier, archive: ModelArchive) {
  do {
    return try ClassifierFile.decode(bytes)
  } catch {
    throw CommandFailure(message: "\(path): \(error.description)", status: ExitStatus.badInput)
  }
}

/// Refuses data whose width differs from the model's, naming both files.
func checkFeatureCount(_ data: Dataset, of dataPath: String, model: any Classifier, path: String) throws {
  guard data.featureCount == model.featureCount else {
    throw CommandFailure(
      message: "\(dataPath): rows have \(data.featureCount) features, but \(path) was trained on \(model.featureCount)",
      status: ExitStatus.badInput)
  }
}

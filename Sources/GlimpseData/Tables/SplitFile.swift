import GlimpseCore

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// A train/test split read from JSON (`{"train": [rows], "test": [rows]}`, as
/// `samples/mnist/split.json`).
public struct SplitFile: Decodable, Sendable {
  /// Training rows.
  public var train: [Int]
  /// Test rows.
  public var test: [Int]
  /// Training labels with some flipped, for valuation experiments (`samples/mnist/split.json`).
  public var noisy: NoisyLabels?

  /// Noisy and clean training labels, one per `train` row.
  public struct NoisyLabels: Decodable, Sendable {
    /// Label values (class names as integers), aligned with `train`.
    public var trainLabelsNoisy: [Int]
    /// The true labels of the same rows.
    public var trainLabelsClean: [Int]

    enum CodingKeys: String, CodingKey {
      case trainLabelsNoisy = "train_labels_noisy"
      case trainLabelsClean = "train_labels_clean"
    }
  }

  enum CodingKeys: String, CodingKey { case train, test, noisy }

  /// Row lists are read as numbers and then checked to be row numbers, so that `1.5` or
  /// `1e30` is reported by field (the JSON decoder would only say the data is not valid JSON).
  public init(from decoder: any Decoder) throws {
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

  /// Decodes a split read from `path` and checks its row lists.
  /// - Throws: `FileContentError` naming the field.
  public static func decode(_ bytes: [UInt8], path: String) throws -> SplitFile {
    let split: SplitFile
    do {
      split = try JSONDecoder().decode(SplitFile.self, from: Data(bytes))
    } catch {
      throw FileContentError(
        path: path,
        reason:
          "not a split file ({\"train\": [rows], \"test\": [rows]}): \(describeDecodingError(error))"
      )
    }
    if let why = split.problem { throw FileContentError(path: path, reason: why) }
    return split
  }

  /// What is wrong with the row lists on their own (negative or repeated rows, a row in both
  /// lists, noisy labels not one per train row); `nil` when nothing is.
  public var problem: String? {
    var trainRows = Set<Int>()
    for (position, row) in train.enumerated() {
      guard row >= 0 else {
        return "field 'train[\(position)]' is \(row), expected a row number ≥ 0"
      }
      guard trainRows.insert(row).inserted else { return "field 'train' lists row \(row) twice" }
    }
    var testRows = Set<Int>()
    for (position, row) in test.enumerated() {
      guard row >= 0 else {
        return "field 'test[\(position)]' is \(row), expected a row number ≥ 0"
      }
      guard testRows.insert(row).inserted else { return "field 'test' lists row \(row) twice" }
      guard !trainRows.contains(row) else { return "row \(row) is in both 'train' and 'test'" }
    }
    if let noisy {
      guard noisy.trainLabelsNoisy.count == train.count else {
        return
          "field 'noisy.train_labels_noisy' has \(noisy.trainLabelsNoisy.count) labels for \(train.count) train rows"
      }
      guard noisy.trainLabelsClean.count == train.count else {
        return
          "field 'noisy.train_labels_clean' has \(noisy.trainLabelsClean.count) labels for \(train.count) train rows"
      }
    }
    return nil
  }

  /// Checks every row number against the dataset's size.
  public func check(rows: Int, path: String) throws {
    for (name, list) in [("train", train), ("test", test)] {
      if let position = list.firstIndex(where: { $0 < 0 || $0 >= rows }) {
        throw FileContentError(
          path: path,
          reason:
            "field '\(name)[\(position)]': row \(list[position]) is outside the data's 0..<\(rows)")
      }
    }
  }
}

import Testing

@testable import GlimpseCore

/// `Dataset.randomSplit(trainCount:seed:)` (`glimpse train --train-size`) and
/// `Dataset.aligned(to:)` (test sets in another class order).
@Suite struct DatasetSplitTests {
  /// 10 rows named by their index; row r has class r mod 2.
  static let data = Dataset(
    features: Matrix((0..<10).map { [Double($0)] }), labels: (0..<10).map { $0 % 2 },
    classNames: ["even", "odd"], sources: (0..<10).map { "\($0)" })

  /// The pinned rows are what `glimpse train --train-size` shuffled before the split moved into
  /// GlimpseCore (`Array(0..<n).shuffled(using: &SeededGenerator(seed:).stream(1))`): changing
  /// them would change every model trained with `--train-size`.
  @Test("A seeded random split gives the rows the CLI's --train-size gave, in the same order")
  func randomSplitMatchesThePreviousRows() throws {
    let (train, test) = try Self.data.randomSplit(trainCount: 6, seed: 7)
    #expect(train.sources == ["6", "8", "5", "3", "0", "2"])
    #expect(test.sources == ["1", "4", "9", "7"])
    #expect(train.labels == train.sources.map { Int($0)! % 2 })
  }

  @Test(
    "shuffledRows partitions the rows, each side ascending, as the shuffle's first rows and the rest"
  )
  func shuffledRowsFollowTheShuffle() {
    var a = SeededGenerator(seed: 3)
    var b = SeededGenerator(seed: 3)
    let rows = Self.data.shuffledRows(trainCount: 6, using: &a)
    let order = Array(0..<10).shuffled(using: &b)
    #expect(rows.train == order[..<6].sorted() && rows.test == order[6...].sorted())
    #expect(a == b)  // the same draws: what the demo's later steps draw stays the same
  }

  @Test(
    "Train and test rows partition the dataset, for any seed", arguments: [0, 1, 42] as [UInt64])
  func randomSplitPartitions(seed: UInt64) throws {
    let (train, test) = try Self.data.randomSplit(trainCount: 3, seed: seed)
    #expect(train.count == 3 && test.count == 7)
    #expect(Set(train.sources + test.sources).count == 10)
  }

  @Test("A split that leaves no test row is refused")
  func randomSplitNeedsTestRows() {
    #expect(throws: DatasetSplitError.noTestRows(trainCount: 10, rowCount: 10)) {
      try Self.data.randomSplit(trainCount: 10, seed: 0)
    }
  }

  @Test("Aligning to another class order re-indexes the labels and keeps the rows")
  func alignedReindexes() throws {
    let aligned = try Self.data.aligned(to: ["odd", "other", "even"])
    #expect(aligned.classNames == ["odd", "other", "even"])
    #expect(aligned.labels == (0..<10).map { $0 % 2 == 0 ? 2 : 0 })
    #expect(aligned.sources == Self.data.sources)
  }

  @Test("Aligning to class names that miss a row's class is refused, naming the class")
  func alignedRefusesUnknownClass() {
    #expect(throws: DatasetAlignmentError.unknownClass(className: "odd", knownClasses: ["even"])) {
      try Self.data.aligned(to: ["even"])
    }
  }
}

import GlimpseCore
import Testing

@testable import GlimpseValuation

/// `ValuationSets.split`: the sets of `glimpse value --split FILE [--noisy] --validation-rows N`.
@Suite struct ValuationSetsTests {
  /// 10 rows; row r has feature r and class r mod 3 (classes "x", "y", "z").
  static let data = Dataset(
    features: Matrix((0..<10).map { [Double($0)] }), labels: (0..<10).map { $0 % 3 },
    classNames: ["x", "y", "z"], sources: (0..<10).map { "row \($0)" })

  @Test("Train rows are valued, the first validationRows test rows validate, the rest are held out")
  func splitsRows() throws {
    let sets = try ValuationSets.split(
      Self.data, trainRows: [4, 0, 7], testRows: [9, 1, 2, 5], validationRows: 3)
    #expect(sets.training.sources == ["row 4", "row 0", "row 7"])
    #expect(sets.validation.sources == ["row 9", "row 1", "row 2"])
    #expect(sets.heldOut?.sources == ["row 5"])
    #expect(sets.flipped == nil && sets.cleanLabels == nil)
  }

  @Test(
    "With no validationRows, or more than there are, every test row validates and none is held out")
  func allTestRowsValidate() throws {
    for rows in [nil, 4, 50] {
      let sets = try ValuationSets.split(
        Self.data, trainRows: [0, 1], testRows: [2, 3, 4, 5], validationRows: rows)
      #expect(sets.validation.count == 4)
      #expect(sets.heldOut == nil)
    }
  }

  @Test(
    "Noisy labels replace the training labels; flipped marks the changed ones, cleanLabels keeps the true ones"
  )
  func noisyLabels() throws {
    // Rows 4, 0, 7 have classes y, x, y; the noisy labels change only the second.
    let sets = try ValuationSets.split(
      Self.data, trainRows: [4, 0, 7], testRows: [9, 1], noisyLabels: ["y", "z", "y"])
    #expect(sets.training.labels == [1, 2, 1])
    #expect(sets.training.classNames == ["x", "y", "z"])
    #expect(sets.flipped == [false, true, false])
    #expect(sets.cleanLabels == [1, 0, 1])
    #expect(sets.validation.labels == [0, 1])
  }

  @Test("Noisy labels that do not number one per train row are refused")
  func noisyLabelCount() {
    #expect(throws: ValuationSetsError.noisyLabelCount(labels: 2, trainRows: 3)) {
      try ValuationSets.split(
        Self.data, trainRows: [4, 0, 7], testRows: [9], noisyLabels: ["y", "z"])
    }
  }

  @Test("A noisy label that names no class is refused with its train row")
  func unknownNoisyLabel() {
    let error = ValuationSetsError.unknownNoisyLabel(label: "42", trainRow: 1)
    #expect(throws: error) {
      try ValuationSets.split(
        Self.data, trainRows: [4, 0, 7], testRows: [9], noisyLabels: ["y", "42", "y"])
    }
    #expect(error.description == "noisy label 42 of train row 1 is not a class of the data")
  }
}

import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseData

/// Figures computed by pandas from the same files (Fixtures/scripts/make_fixtures.py).
// The property names are the fixture's JSON keys.
// swift-format-ignore: AlwaysUseLowerCamelCase
struct MNISTStats: Decodable {
  var rows: Int
  var columns: Int
  var sum_scaled: Double
  var row_sums_scaled_first5: [Double]
  var class_counts: [Int]
  var labels_first5: [Int]
  var labels_last5: [Int]
  var pixel_1234_300: Double
}

@Suite("Tables into datasets")
struct TableDatasetReaderTests {
  static let images = TestPaths.samples + "/mnist/mnist-imgs-mini.csv.bz2"
  static let labels = TestPaths.samples + "/mnist/mnist-lbls-mini.csv.bz2"
  let fixtures = TestPaths.fixtures("GlimpseDataTests")

  func mnist() throws -> Dataset {
    var options = ReadOptions()
    options.labelsPath = Self.labels
    return try TableDatasetReader.read(Self.images, options: options)
  }

  @Test("the 5000 sample digits read as pandas reads them (sums, counts, labels, one pixel)")
  func mnistMatchesPandas() throws {
    let stats = try loadJSON(MNISTStats.self, from: fixtures + "/mnist_stats.json")
    let dataset = try mnist()
    #expect(dataset.count == stats.rows)
    #expect(dataset.featureCount == stats.columns)
    #expect(dataset.imageShape == ImageShape(height: 28, width: 28, channels: 1))
    #expect(dataset.classNames == (0...9).map(String.init))
    #expect(dataset.classCounts == stats.class_counts)
    #expect(Array(dataset.labels.prefix(5)) == stats.labels_first5)
    #expect(Array(dataset.labels.suffix(5)) == stats.labels_last5)
    #expect(dataset.features[1234, 300] == stats.pixel_1234_300)
    #expect(dataset.features.valueRange == 0...1)
    // Summation order differs from NumPy's pairwise sum: allow 1e-9 relative.
    #expect(abs(dataset.features.storage.reduce(0, +) - stats.sum_scaled) < 1e-9 * stats.sum_scaled)
    for row in 0..<5 {
      #expect(
        abs(dataset.features.row(row).reduce(0, +) - stats.row_sums_scaled_first5[row]) < 1e-9)
    }
    #expect(dataset.sources[0] == Self.images + ":2")
  }

  @Test("a one-file gzip table with its label column first gives the same rows as the pair")
  func oneFileGzipTable() throws {
    let rows = try loadJSON([Int].self, from: fixtures + "/mnist50_rows.json")
    let single = try TableDatasetReader.read(fixtures + "/mnist50.csv.gz")
    let pair = try mnist().subset(rows)
    #expect(single.count == 50)
    #expect(single.features == pair.features)
    #expect(single.labels == pair.labels)
    #expect(single.imageShape == pair.imageShape)
  }

  @Test("string labels sort as strings, integer labels numerically")
  func labelOrder() throws {
    let directory = makeTemporaryDirectory()
    try writeFile("x,y,label\n0,1,dog\n1,0,cat\n2,2,dog\n", to: directory + "/pets.csv")
    let pets = try TableDatasetReader.read(directory + "/pets.csv")
    #expect(pets.classNames == ["cat", "dog"])
    #expect(pets.labels == [1, 0, 1])
    #expect(pets.imageShape == nil)
    // Plain tables keep their values (no 1/255 scaling without an image shape).
    #expect(pets.features.row(2).elementsEqual([2, 2]))
    try writeFile("a,label\n1,10\n2,9\n3,10\n", to: directory + "/numbers.csv")
    #expect(try TableDatasetReader.read(directory + "/numbers.csv").classNames == ["9", "10"])
  }

  @Test("image tables of bytes are scaled by 1/255 unless raw; --shape overrides inference")
  func scalingAndShape() throws {
    let directory = makeTemporaryDirectory()
    try writeFile("a,b,c,d,label\n0,255,51,0,x\n255,0,0,102,y\n", to: directory + "/tiny.csv")
    let scaled = try TableDatasetReader.read(directory + "/tiny.csv")
    #expect(scaled.imageShape == ImageShape(height: 2, width: 2))
    #expect(scaled.features.row(0).elementsEqual([0, 1, 0.2, 0]))
    var options = ReadOptions()
    options.raw = true
    #expect(
      try TableDatasetReader.read(directory + "/tiny.csv", options: options).features[0, 1] == 255)
    options = ReadOptions()
    options.shape = ImageShape(height: 1, width: 4, channels: 1)
    #expect(
      try TableDatasetReader.read(directory + "/tiny.csv", options: options).imageShape
        == options.shape)
    options.shape = ImageShape(height: 2, width: 2, channels: 3)
    #expect(
      throws: DataError.shapeMismatch(
        path: directory + "/tiny.csv", shape: options.shape!, columns: 4)
    ) {
      try TableDatasetReader.read(directory + "/tiny.csv", options: options)
    }
    // Non-integer cells: the table is read as it is.
    try writeFile("a,b,c,d,label\n0.5,2,3,4,x\n1,1,1,1,y\n", to: directory + "/floats.csv")
    #expect(try TableDatasetReader.read(directory + "/floats.csv").features[0, 0] == 0.5)
  }

  @Test("label problems: missing, count mismatch, index mismatch, single class, empty")
  func labelErrors() throws {
    let directory = makeTemporaryDirectory()
    let features = directory + "/f.csv"
    let labels = directory + "/l.csv"
    try writeFile(",a,b\n0,1,2\n1,3,4\n2,5,6\n", to: features)
    #expect(throws: DataError.missingLabels(path: features, labelColumn: "label")) {
      try TableDatasetReader.read(features)
    }
    var options = ReadOptions()
    options.labelsPath = labels
    try writeFile(",label\n0,1\n1,2\n", to: labels)
    #expect(
      throws: DataError.labelCountMismatch(path: features, labels: 2, labelsPath: labels, rows: 3)
    ) {
      try TableDatasetReader.read(features, options: options)
    }
    try writeFile(",label\n0,1\n7,2\n2,1\n", to: labels)
    #expect(
      throws: DataError.indexMismatch(path: features, line: 3, labelsPath: labels, labelsLine: 3)
    ) {
      try TableDatasetReader.read(features, options: options)
    }
    try writeFile(",label\n0,1\n1,1\n2,1\n", to: labels)
    // The labels file is the one to fix, so it is the one named.
    #expect(throws: DataError.singleClass(path: labels, className: "1")) {
      try TableDatasetReader.read(features, options: options)
    }
    try writeFile(",label\n0,a\n1,b\n2,a\n", to: labels)
    #expect(try TableDatasetReader.read(features, options: options).classNames == ["a", "b"])
    try writeFile("a,label\n", to: directory + "/empty.csv")
    #expect(throws: DataError.emptyDataset(path: directory + "/empty.csv")) {
      try TableDatasetReader.read(directory + "/empty.csv")
    }
    try writeFile("", to: directory + "/nothing.csv")
    #expect(throws: DataError.emptyDataset(path: directory + "/nothing.csv")) {
      try TableDatasetReader.read(directory + "/nothing.csv")
    }
  }
}

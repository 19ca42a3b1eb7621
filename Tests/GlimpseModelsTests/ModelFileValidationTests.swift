import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// One test per crash the mutation fuzzer found in model files that check out (CRC recomputed)
/// but lie: each used to trap, hang or allocate without bound, and is now a one-line
/// `ModelError` naming the field.
@Suite("Model files: each lying field is refused by name")
struct ModelFileValidationTests {
  static func archive(_ kind: String) -> ModelArchive {
    ModelFileFuzz.archives.first { $0.kind == kind }!
  }

  static var svm: ModelArchive { ModelFileFuzz.archives[0] }
  static var polySVM: ModelArchive { ModelFileFuzz.archives[2] }

  /// The error `bytes` decode to (`nil` when they load).
  static func reason(_ bytes: [UInt8]) -> String? {
    do {
      _ = try ClassifierFile.decode(bytes)
      return nil
    } catch {
      return error.description
    }
  }

  /// Edits the JSON header's text, fixes the header length and reseals the checksum.
  static func patchingHeader(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
    let length = Int(bytes[12]) | Int(bytes[13]) << 8 | Int(bytes[14]) << 16 | Int(bytes[15]) << 24
    let header = String(decoding: bytes[16..<(16 + length)], as: UTF8.self)
    precondition(header.contains(old), "the header has no \(old)")
    let patched = Array(header.replacingOccurrences(of: old, with: new).utf8)
    var result = Array(bytes[0..<12])
    withUnsafeBytes(of: UInt32(patched.count).littleEndian) { result.append(contentsOf: $0) }
    result += patched + bytes[(16 + length)...]
    return ModelFileFuzz.resealed(result)
  }

  @Test("a CNN image shape whose size overflows is refused (was an overflow trap)")
  func cnnShapeOverflow() {
    var archive = Self.archive("cnn")
    archive.imageShape!.height = 1 << 40
    archive.imageShape!.width = 1 << 40
    let message = Self.reason(archive.encoded())
    #expect(message?.contains("imageShape") == true)
  }

  @Test("a CNN image shape the file's weights do not cover is refused before the layers are built")
  func cnnShapeTooLargeForWeights() {
    var archive = Self.archive("cnn")
    // 65536 × 65536 = 2³² features: valid as a count, but the dense layer would need ~2³⁴ weights.
    archive.imageShape = ImageShape(height: 65_536, width: 65_536)
    archive.featureCount = 65_536 * 65_536
    let message = Self.reason(archive.encoded())
    #expect(message?.contains("'7.weight'") == true || message?.contains("'8.weight'") == true)
  }

  @Test("an image shape that does not hold the feature count is refused")
  func shapeAgainstFeatureCount() {
    var archive = Self.archive("knn")
    archive.imageShape = ImageShape(height: 28, width: 28)
    #expect(Self.reason(archive.encoded())?.contains("field 'imageShape'") == true)
  }

  @Test(
    "a huge polynomial degree is refused (was Int(degree) trapping, or prediction looping)",
    arguments: ["1e300", "-5", "1000000", "2.5"])
  func svmDegree(text: String) {
    var archive = Self.polySVM
    archive.scalars["degree"] = Double(text)!
    let message = Self.reason(archive.encoded())
    #expect(message?.contains("scalar 'degree'") == true)
  }

  @Test(
    "a feature count whose product with the support vectors overflows is refused",
    arguments: [Int.max, 1 << 62, -1, 0])
  func featureCountOverflow(featureCount: Int) {
    for kind in ["svm", "knn", "logistic"] {
      var archive = Self.archive(kind)
      archive.featureCount = featureCount
      #expect(Self.reason(archive.encoded())?.contains("featureCount") == true, "\(kind)")
    }
  }

  @Test("a support vector listed twice is refused (was a duplicate-key trap)")
  func duplicateSupportIndices() {
    var archive = Self.svm
    archive.integers["supportIndices"]![1] = archive.integers["supportIndices"]![0]
    #expect(
      Self.reason(archive.encoded())?.contains("'supportIndices' lists a training row twice")
        == true)
  }

  @Test(
    "class pairs that are not libsvm's complete list are refused (a pair i, i indexed past its table)"
  )
  func svmPairs() {
    var archive = Self.svm
    archive.integers["pairSecond"]![0] = archive.integers["pairFirst"]![0]
    #expect(Self.reason(archive.encoded())?.contains("'pairFirst' and 'pairSecond'") == true)
  }

  @Test("non-finite weights are refused", arguments: ["svm", "knn", "logistic"])
  func nonFiniteWeights(kind: String) {
    var archive = Self.archive(kind)
    let name = ["svm": "dualCoefficients", "knn": "features", "logistic": "weights"][kind]!
    archive.doubles[name]![0] = .nan
    #expect(Self.reason(archive.encoded())?.contains("array '\(name)' holds nan") == true)
  }

  @Test("a label outside the classes is refused; a KNN model without rows is refused")
  func knnLabels() {
    var archive = Self.archive("knn")
    archive.integers["labels"]![0] = 3
    #expect(Self.reason(archive.encoded())?.contains("array 'labels' holds 3") == true)
    archive.integers["labels"] = []
    archive.doubles["features"] = []
    #expect(Self.reason(archive.encoded())?.contains("'labels' is empty") == true)
  }

  @Test("duplicate or too few class names are refused (a duplicate made later dictionaries trap)")
  func classNames() {
    var archive = Self.svm
    archive.classNames = ["a", "a", "c"]
    #expect(Self.reason(archive.encoded())?.contains("lists the class 'a' twice") == true)
    archive.classNames = ["a"]
    #expect(Self.reason(archive.encoded())?.contains("needs at least 2") == true)
  }

  @Test(
    "array lengths in the header that overflow or are negative are refused before reading",
    arguments: ["2305843009213693952", "9223372036854775807", "-1"])
  func arrayLengths(count: String) {
    let bytes = Self.archive("logistic").encoded()
    let intercepts = Self.archive("logistic").doubles["intercepts"]!.count
    let patched = Self.patchingHeader(
      bytes, "{\"count\":\(intercepts),\"name\":\"intercepts\"",
      "{\"count\":\(count),\"name\":\"intercepts\"")
    let message = Self.reason(patched)
    #expect(message?.contains("array 'intercepts' has a length of") == true)
  }

  @Test("an array listed twice or of an unknown type is refused")
  func arrayList() {
    let bytes = Self.archive("logistic").encoded()
    let renamed = Self.patchingHeader(bytes, "\"name\":\"intercepts\"", "\"name\":\"weights\"")
    #expect(Self.reason(renamed)?.contains("array 'weights' is listed twice") == true)
    let retyped = Self.patchingHeader(bytes, "\"type\":\"f64\"", "\"type\":\"f\\n\"")
    #expect(Self.reason(retyped)?.contains("unknown type 'f\\n'") == true)
  }

  @Test(
    "hyperparameters out of range are refused as a damaged file",
    arguments: [("\"c\":1", "\"c\":-1"), ("\"tolerance\":0.001", "\"tolerance\":0")])
  func svmHyperparameters(old: String, new: String) throws {
    var archive = Self.svm
    let json = String(decoding: archive.hyperparametersJSON, as: UTF8.self)
    try #require(json.contains(old))
    archive.hyperparametersJSON = Array(json.replacingOccurrences(of: old, with: new).utf8)
    #expect(Self.reason(archive.encoded())?.contains("hyperparameter") == true)
  }

  @Test("a kernel code other than the hyperparameters' kernel is refused")
  func kernelMismatch() {
    var archive = Self.svm
    archive.scalars["kernel"] = 1
    #expect(Self.reason(archive.encoded())?.contains("scalar 'kernel' says linear") == true)
    archive.scalars["kernel"] = .greatestFiniteMagnitude
    #expect(Self.reason(archive.encoded())?.contains("scalar 'kernel'") == true)
  }

  @Test("a header length past the file, and version 0, are refused")
  func headerLength() {
    var bytes = Self.svm.encoded()
    bytes.replaceSubrange(12..<16, with: [0xFF, 0xFF, 0xFF, 0xFF])
    #expect(Self.reason(ModelFileFuzz.resealed(bytes))?.contains("cut short") == true)
    var zero = Self.svm.encoded()
    zero.replaceSubrange(8..<12, with: [0, 0, 0, 0])
    #expect(Self.reason(ModelFileFuzz.resealed(zero))?.contains("version 0") == true)
  }

  @Test("messages quote file text escaped: no newline or raw control byte")
  func quoting() {
    var archive = Self.svm
    archive.kind = "evil\nkind\u{1}" + String(repeating: "x", count: 200)
    let message = Self.reason(archive.encoded()) ?? ""
    #expect(message.contains("'evil\\nkind\\x01"))
    #expect(!message.contains("\n") && !message.contains("\u{1}"))
    #expect(message.count < 200)
  }

  @Test("deeply nested hyperparameters are refused, not a stack overflow")
  func deepNesting() {
    var archive = Self.svm
    archive.hyperparametersJSON =
      Array(String(repeating: "[", count: 100_000).utf8)
      + Array(String(repeating: "]", count: 100_000).utf8)
    #expect(Self.reason(archive.encoded()) != nil)
  }

  @Test("an untouched file of every family still loads and predicts as the original")
  func untouchedFilesLoad() throws {
    for archive in ModelFileFuzz.archives {
      let (model, decoded) = try ClassifierFile.decode(archive.encoded())
      #expect(decoded == archive)
      #expect(model.archive() == archive)
    }
  }
}

@Suite("Model files: 8-bit arrays stored one byte per value")
struct EightBitArrayTests {
  @Test(
    "pixels k/255 round-trip bit for bit through a q8 array (version 2, an eighth of the bytes); other doubles stay f64 (version 1)"
  )
  func eightBitArraysRoundTrip() throws {
    let pixels = (0..<1000).map { Double(($0 * 37) % 256) / 255 }
    let archive = ModelArchive(
      kind: "test", classNames: ["a", "b"], featureCount: 10, hyperparameters: ["x": 1],
      doubles: ["pixels": pixels, "weights": [0.1, 0.2]])
    let bytes = archive.encoded()
    #expect(bytes[8] == 2)
    let decoded = try ModelArchive(decoding: bytes)
    #expect(decoded.doubles["pixels"]!.map(\.bitPattern) == pixels.map(\.bitPattern))
    #expect(decoded.doubles["weights"] == [0.1, 0.2])
    // 1000 one-byte values instead of 8000 bytes.
    let plain = ModelArchive(
      kind: "test", classNames: ["a", "b"], featureCount: 10, hyperparameters: ["x": 1],
      doubles: ["pixels": pixels.map { $0 + 1e-9 }, "weights": [0.1, 0.2]])
    #expect(bytes.count < plain.encoded().count - 6900)
    #expect(plain.encoded()[8] == 1)
  }

  @Test("Float32 values round-trip bit for bit through an f32 array (version 3, half the bytes)")
  func float32ArraysRoundTrip() throws {
    let weights = LayerCheck.values(1000, seed: 4).map { Double(Float($0)) }
    let archive = ModelArchive(
      kind: "test", classNames: ["a", "b"], featureCount: 10, hyperparameters: ["x": 1],
      doubles: ["weights": weights, "exact": (0..<20).map { 0.1 * Double($0) }])
    let bytes = archive.encoded()
    #expect(bytes[8] == 3)
    let decoded = try ModelArchive(decoding: bytes)
    #expect(decoded.doubles["weights"]!.map(\.bitPattern) == weights.map(\.bitPattern))
    #expect(decoded.doubles["exact"] == (0..<20).map { 0.1 * Double($0) })
    #expect(ModelArchive.isFloat32(weights))
    #expect(!ModelArchive.isFloat32(weights.map { $0 + 1e-12 }))
    #expect(bytes.count < 16 + 600 + 4000 + 160 + 4)
  }

  @Test("a value that is not exactly k/255 keeps the whole array in f64")
  func nearPixelsStayDoubles() {
    var pixels = (0..<100).map { Double($0) / 255 }
    pixels[50] = pixels[50].nextUp
    #expect(!ModelArchive.isEightBit(pixels))
    #expect(ModelArchive.isEightBit((0..<100).map { Double($0) / 255 }))
    #expect(!ModelArchive.isEightBit([-0.0] + (0..<99).map { Double($0) / 255 }))
  }
}

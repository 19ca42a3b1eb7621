import Foundation
import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// Model files whose fields were changed and whose checksum was then recomputed: the decoder must
/// refuse them with a `ModelError` or load a model that predicts, never trap or hang.
///
/// A trap ends the test process, so a failure shows as a crash of this suite; set
/// `GLIMPSE_FUZZ_ROUNDS` to run many more rounds while hunting (the committed default runs in a
/// few seconds).
enum ModelFileFuzz {
  static let interestingIntegers: [Int] = [
    0, 1, -1, 2, 3, 7, 255, 256, 65_535, Int(Int32.max), Int(UInt32.max), 1 << 32, 1 << 40,
    1 << 62, Int.max, Int.min, -(1 << 31),
  ]
  static let interestingDoubles: [Double] = [
    0, -0.0, 1, -1, 0.5, 3.5, 1001, 1e308, -1e308, .nan, .infinity, -.infinity, 5e-324,
    4_294_967_296,
    9.3e18, 1e19, -9.3e18,
  ]
  static let interestingBytes: [[UInt8]] = [
    [0, 0, 0, 0], [1, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0x7F],
    [0, 0, 0, 0x80], [0, 0, 0, 0, 0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
    [0, 0, 0, 0, 0, 0, 0xF8, 0x7F], [0, 0, 0, 0, 0, 0, 0xF0, 0x7F],
    [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
  ]
  static let interestingNumberTexts = [
    "0", "-1", "1", "2", "1001", "2147483648", "4294967296", "9223372036854775807",
    "-9223372036854775808", "1e308", "-1e308", "0.5", "1e-400", "99999999999999999999",
  ]

  /// Tiny trained models of every family, as archives.
  static let archives: [ModelArchive] = {
    var rng = SeededGenerator(seed: 11)
    // Three classes of 4 pixel values (k / 255), so the pixel-code paths run too.
    var rows: [[Double]] = []
    var labels: [Int] = []
    for index in 0..<30 {
      let label = index % 3
      rows.append(
        (0..<4).map { column in
          let base = column == label ? 200 : 30
          return Double(base + Int(rng.next(upperBound: UInt64(40)))) / 255
        })
      labels.append(label)
    }
    let points = Dataset(
      features: Matrix(rows), labels: labels, classNames: ["a", "b", "c"],
      imageShape: ImageShape(height: 2, width: 2), sources: (0..<30).map { "p\($0)" })
    var result: [ModelArchive] = []
    do {
      for (kernel, probability) in [
        (SVMClassifier.KernelName.rbf, true), (.linear, true), (.poly, true), (.rbf, false),
      ] {
        var h = SVMClassifier.Hyperparameters()
        h.kernel = kernel
        h.probability = probability
        result.append(try SVMClassifier.fit(points, hyperparameters: h, using: &rng).archive())
      }
      result.append(
        try LogisticRegression.fit(points, hyperparameters: .init(), using: &rng).archive())
      result.append(
        try KNearestNeighbors.fit(points, hyperparameters: .init(k: 3), using: &rng).archive())
      let bars = Bars.dataset(count: 8, seed: 3)
      for architecture in [Architecture.seed, .standard] {
        result.append(
          try CNNClassifier.fit(
            bars, hyperparameters: Bars.recipe(architecture, epochs: 1), using: &rng
          )
          .archive())
      }
    } catch {
      preconditionFailure("training the fuzzing models failed: \(error)")
    }
    return result
  }()

  /// Decodes `bytes`; a model that loads must predict rows of its width. Returns whether it
  /// loaded.
  @discardableResult
  static func check(_ bytes: [UInt8]) -> Bool {
    let loaded: any Classifier
    do {
      loaded = try ClassifierFile.decode(bytes).model
    } catch {
      // One line, no raw bytes.
      precondition(!error.description.contains("\n"), "multi-line error: \(error.description)")
      return false
    }
    guard loaded.featureCount <= 4096 else { return true }
    var rng = SeededGenerator(seed: 5)
    let features = Matrix(rows: 3, columns: loaded.featureCount) { _, _ in
      Double(rng.next(upperBound: UInt64(256))) / 255
    }
    let probabilities = loaded.predictProbabilities(features)
    precondition(probabilities.rows == 3 && probabilities.columns == loaded.classNames.count)
    _ = loaded.predict(features)
    if let svm = loaded as? SVMClassifier { _ = svm.supportCountsPerClass }
    if let cnn = loaded as? CNNClassifier { _ = cnn.embed(features) }
    return true
  }

  /// Recomputes the trailing CRC-32 so the file checks out.
  static func resealed(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.count >= 4 else { return bytes }
    var result = Array(bytes.dropLast(4))
    let crc = CRC32.checksum(result)
    withUnsafeBytes(of: crc.littleEndian) { result.append(contentsOf: $0) }
    return result
  }

  /// One mutation of an archive's fields (re-encoded, so the checksum is right).
  static func mutateFields(_ original: ModelArchive, using rng: inout SeededGenerator) -> [UInt8] {
    var archive = original
    func pick<T>(_ values: [T], _ rng: inout SeededGenerator) -> T {
      values[Int(rng.next(upperBound: UInt64(values.count)))]
    }
    switch rng.next(upperBound: UInt64(9)) {
    case 0:
      archive.featureCount = pick(interestingIntegers, &rng)
    case 1:
      let sizes = interestingIntegers + [1, 2, 4, 12]
      archive.imageShape =
        rng.next(upperBound: UInt64(4)) == 0
        ? nil
        : ImageShape(height: 1, width: 1).with(
          pick(sizes, &rng), pick(sizes, &rng), pick(sizes, &rng))
    case 2:
      switch rng.next(upperBound: UInt64(4)) {
      case 0: archive.classNames = []
      case 1: archive.classNames = [archive.classNames[0]]
      case 2: archive.classNames.append(archive.classNames[0])
      default: archive.classNames += (0..<Int(rng.next(upperBound: UInt64(300)))).map { "x\($0)" }
      }
    case 3:
      guard let key = archive.scalars.keys.sorted().randomElement(using: &rng) else { break }
      if rng.next(upperBound: UInt64(5)) == 0 {
        archive.scalars[key] = nil
      } else {
        archive.scalars[key] = pick(interestingDoubles.filter(\.isFinite), &rng)
      }
    case 4, 5:
      guard let key = archive.doubles.keys.sorted().randomElement(using: &rng),
        var values = archive.doubles[key]
      else { break }
      mutateArray(&values, interesting: interestingDoubles, using: &rng)
      archive.doubles[key] = values
    case 6, 7:
      guard let key = archive.integers.keys.sorted().randomElement(using: &rng),
        var values = archive.integers[key]
      else { break }
      mutateArray(&values, interesting: interestingIntegers, using: &rng)
      archive.integers[key] = values
    default:
      archive.hyperparametersJSON = mutateNumbers(archive.hyperparametersJSON, using: &rng)
    }
    return archive.encoded()
  }

  static func mutateArray<T>(
    _ values: inout [T], interesting: [T], using rng: inout SeededGenerator
  ) {
    let pick = { (rng: inout SeededGenerator) in
      interesting[Int(rng.next(upperBound: UInt64(interesting.count)))]
    }
    switch rng.next(upperBound: UInt64(5)) {
    case 0 where !values.isEmpty:
      values[Int(rng.next(upperBound: UInt64(values.count)))] = pick(&rng)
    case 1 where !values.isEmpty:
      values.removeLast(Int(rng.next(upperBound: UInt64(values.count))) + 1)
    case 2 where !values.isEmpty:
      let start = Int(rng.next(upperBound: UInt64(values.count)))
      values.insert(contentsOf: values[start...].prefix(8), at: start)
    case 3 where values.count >= 2:
      values[1] = values[0]
    default:
      values.append(pick(&rng))
    }
  }

  /// Replaces one number in JSON text by an interesting one.
  static func mutateNumbers(_ json: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
    var spans: [Range<Int>] = []
    var index = 0
    let numeric = Set("-+.eE0123456789".utf8)
    while index < json.count {
      if numeric.contains(json[index]),
        json[index] != UInt8(ascii: "e") || index > 0 && numeric.contains(json[index - 1])
      {
        let start = index
        while index < json.count, numeric.contains(json[index]) { index += 1 }
        spans.append(start..<index)
      } else {
        index += 1
      }
    }
    guard let span = spans.randomElement(using: &rng) else { return json }
    var result = json
    let text = interestingNumberTexts[
      Int(rng.next(upperBound: UInt64(interestingNumberTexts.count)))]
    result.replaceSubrange(span, with: Array(text.utf8))
    return result
  }

  /// One mutation of the raw bytes, resealed with a correct checksum.
  static func mutateBytes(_ original: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
    var bytes = original
    let position = Int(rng.next(upperBound: UInt64(bytes.count)))
    switch rng.next(upperBound: UInt64(5)) {
    case 0:
      bytes[position] ^= 1 << UInt8(rng.next(upperBound: UInt64(8)))
    case 1:
      let value = interestingBytes[Int(rng.next(upperBound: UInt64(interestingBytes.count)))]
      for (offset, byte) in value.enumerated() where position + offset < bytes.count {
        bytes[position + offset] = byte
      }
    case 2:
      bytes.removeLast(Int(rng.next(upperBound: UInt64(min(64, bytes.count)))))
    case 3:
      let length = Int(rng.next(upperBound: UInt64(64))) + 1
      let slice = bytes[position..<min(bytes.count, position + length)]
      bytes.insert(contentsOf: Array(slice), at: position)
    default:
      // The header's length field: point it somewhere else.
      let value = UInt32(truncatingIfNeeded: Int(rng.next(upperBound: UInt64(bytes.count + 64))))
      withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(12..<16, with: $0) }
    }
    return resealed(bytes)
  }

  /// Runs `rounds` mutations of each archive; returns how many mutants loaded.
  static func run(rounds: Int, seed: UInt64) -> Int {
    var loaded = 0
    for (index, archive) in archives.enumerated() {
      var rng = SeededGenerator(seed: seed).stream(UInt64(index))
      let bytes = archive.encoded()
      precondition(check(bytes), "the unmutated \(archive.kind) model must load")
      let started = Date()
      // CNN files are a hundred times larger (and slower to reseal) than the others.
      let rounds = archive.kind == CNNClassifier.kind ? max(1, rounds / 25) : rounds
      for round in 0..<rounds {
        let mutant =
          round % 2 == 0 ? mutateFields(archive, using: &rng) : mutateBytes(bytes, using: &rng)
        if check(mutant) { loaded += 1 }
      }
      if ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_VERBOSE"] != nil {
        print(
          "\(archive.kind) \(index): \(rounds) rounds in \(Date().timeIntervalSince(started)) s")
      }
    }
    return loaded
  }
}

extension ImageShape {
  /// A shape with any sizes, as a decoder would produce from a file (no positivity check).
  fileprivate func with(_ height: Int, _ width: Int, _ channels: Int) -> ImageShape {
    var shape = self
    shape.height = height
    shape.width = width
    shape.channels = channels
    return shape
  }
}

@Suite("Model files: validated field by field")
struct ModelFileFuzzTests {
  @Test("thousands of mutated model files (checksum recomputed) load or throw, never trap")
  func mutantsLoadOrThrow() {
    let rounds = ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_ROUNDS"].flatMap(Int.init) ?? 500
    let seed = ProcessInfo.processInfo.environment["GLIMPSE_FUZZ_SEED"].flatMap(UInt64.init) ?? 1
    let loaded = ModelFileFuzz.run(rounds: rounds, seed: seed)
    // Some mutants (a changed weight, a renamed class) are still valid models.
    #expect(loaded > 0)
  }
}

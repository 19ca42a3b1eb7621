import Foundation
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseTestSupport
import Testing

@testable import glimpse

/// Model files that check out (CRC recomputed) but lie, through `glimpse predict`: exit 65 and
/// one line naming the file and the field, or a prediction; never a trap.
@Suite("Command line: lying model files")
struct ModelFileCommandTests {
  /// A directory with the 2-D points and a model of `name` trained on them.
  static func trained(_ name: String) throws -> (directory: String, model: String) {
    let d = makeTemporaryDirectory()
    try ValueCommandTests.writePoints(d)
    #expect(
      run(["train", d + "/train.csv", "--model", name, "--out", d + "/m.glimpse"]) == (0, []))
    return (d, d + "/m.glimpse")
  }

  static func predict(_ model: String, in d: String) -> (status: Int32, errors: [String]) {
    run(["predict", model, d + "/test.csv", "--out", d + "/p.csv"])
  }

  @Test(
    "a lying field is one line naming the file and the field",
    arguments: [
      ("svm", "featureCount"), ("svm", "degree"), ("svm", "supportIndices"), ("knn", "labels"),
      ("logistic", "classNames"),
    ])
  func lyingField(kind: String, field: String) throws {
    let (d, path) = try Self.trained(kind)
    var archive = try ModelArchive(decoding: FileBytes.readRaw(path))
    switch field {
    case "featureCount": archive.featureCount = Int.max
    case "degree":
      archive.scalars["kernel"] = 2
      archive.scalars["degree"] = 1e300
      archive.scalars["gamma"] = 1
      archive.scalars["coef0"] = 0
    case "supportIndices":
      archive.integers["supportIndices"]![1] = archive.integers["supportIndices"]![0]
    case "labels": archive.integers["labels"]![0] = -1
    default: archive.classNames = ["0", "0"]
    }
    try writeFile(archive.encoded(), to: path)
    let result = Self.predict(path, in: d)
    #expect(result.status == ExitStatus.badInput)
    #expect(result.errors.count == 1)
    #expect(
      result.errors.first?.hasPrefix("glimpse: error: \(path): not a valid Glimpse model file: ")
        == true, "\(result.errors)")
    #expect(result.errors.first?.contains(field) == true, "\(result.errors)")
  }

  /// One random change: a header field, an array element or length, or raw bytes, resealed with
  /// a correct CRC-32.
  static func mutant(_ archive: ModelArchive, using rng: inout SeededGenerator) -> [UInt8] {
    func pick<T>(_ values: [T]) -> T { values[Int(rng.next(upperBound: UInt64(values.count)))] }
    let integers = [0, -1, 1, 2, 3, 1 << 32, 1 << 62, Int.max, Int.min]
    var changed = archive
    switch rng.next(upperBound: UInt64(5)) {
    case 0: changed.featureCount = pick(integers)
    case 1:
      let key = pick(changed.integers.keys.sorted())
      if !changed.integers[key]!.isEmpty { changed.integers[key]![0] = pick(integers) }
    case 2:
      let key = pick(changed.doubles.keys.sorted())
      if !changed.doubles[key]!.isEmpty { changed.doubles[key]!.removeLast() }
    case 3:
      if let key = changed.scalars.keys.sorted().first {
        changed.scalars[key] = pick([-1, 0, 1e300, 2.5])
      }
    default:
      var bytes = archive.encoded()
      let position = Int(rng.next(upperBound: UInt64(bytes.count - 4)))
      bytes[position] ^= 1 << UInt8(rng.next(upperBound: UInt64(8)))
      bytes.removeLast(4)
      withUnsafeBytes(of: CRC32.checksum(bytes).littleEndian) { bytes.append(contentsOf: $0) }
      return bytes
    }
    return changed.encoded()
  }

  @Test("mutated model files predict or are refused with one line")
  func mutatedModels() throws {
    for kind in ["svm", "logistic", "knn"] {
      let (d, path) = try Self.trained(kind)
      let archive = try ModelArchive(decoding: FileBytes.readRaw(path))
      var rng = SeededGenerator(seed: 21)
      for _ in 0..<60 {
        try writeFile(Self.mutant(archive, using: &rng), to: d + "/mutant.glimpse")
        let result = Self.predict(d + "/mutant.glimpse", in: d)
        if result.status != 0 {
          #expect(result.status == ExitStatus.badInput, "\(result.errors)")
          #expect(result.errors.count == 1 && !result.errors[0].contains("\n"), "\(result.errors)")
        }
      }
    }
  }
}

import Foundation
import GlimpseCore

/// Paths of the repository, its samples and test fixtures, found from this file's location.
public enum TestPaths {
  /// The repository's root folder.
  public static let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// `samples/` at the repository root.
  public static var samples: String { repositoryRoot + "/samples" }

  /// `Tests/<module>/Fixtures`.
  public static func fixtures(_ module: String) -> String {
    repositoryRoot + "/Tests/\(module)/Fixtures"
  }
}

/// A new empty directory under the system's temporary directory.
public func makeTemporaryDirectory(_ label: String = "glimpse-test") -> String {
  let template = FileManager.default.temporaryDirectory.path + "/\(label)-XXXXXX"
  var bytes = Array(template.utf8CString)
  guard let created = mkdtemp(&bytes) else {
    preconditionFailure("mkdtemp failed for \(template)")
  }
  return String(cString: created)
}

/// Writes bytes to a file, creating parent directories (test set-up only).
public func writeFile(_ bytes: [UInt8], to path: String) throws {
  let url = URL(fileURLWithPath: path)
  try FileManager.default.createDirectory(
    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
  try Data(bytes).write(to: url)
}

/// Writes text to a file, creating parent directories (test set-up only).
public func writeFile(_ text: String, to path: String) throws {
  try writeFile(Array(text.utf8), to: path)
}

/// Largest absolute difference between two equally long arrays (∞ when lengths differ).
public func maxAbsoluteDifference(_ a: [Double], _ b: [Double]) -> Double {
  guard a.count == b.count else { return .infinity }
  return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Reads a JSON fixture into a decodable type.
public func loadJSON<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
  try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Deterministic pseudo-random values in [0, 1), for synthetic test inputs.
public func randomValues(_ count: Int, seed: UInt64) -> [Double] {
  var generator = SeededGenerator(seed: seed)
  return (0..<count).map { _ in generator.nextUnitDouble() }
}

/// A synthetic image whose every sample is a distinct multiple of 1/255 (exact in 8 bits).
public func byteImage(height: Int, width: Int, channels: Int, seed: UInt64) -> Image {
  var generator = SeededGenerator(seed: seed)
  let shape = ImageShape(height: height, width: width, channels: channels)
  return Image(
    shape: shape,
    eightBitSamples: (0..<shape.valueCount).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
  )
}

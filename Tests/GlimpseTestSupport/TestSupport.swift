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

/// A new empty directory for one test, inside this test process's own temporary folder, which
/// is removed when the process exits (a test run made hundreds of directories and left them
/// all in /tmp). A run that crashes leaves its folder for inspection.
public func makeTemporaryDirectory(_ label: String = "glimpse-test") -> String {
  makeDirectory(template: TestProcessFolder.path + "/\(label)-XXXXXX")
}

/// `mkdtemp` on `template` (ending in XXXXXX).
private func makeDirectory(template: String) -> String {
  var bytes = Array(template.utf8CString)
  guard let created = mkdtemp(&bytes) else {
    preconditionFailure("mkdtemp failed for \(template)")
  }
  return String(cString: created)
}

/// The folder that holds this test process's temporary directories.
private enum TestProcessFolder {
  static let path: String = {
    let folder = makeDirectory(
      template: FileManager.default.temporaryDirectory.path + "/glimpse-tests-XXXXXX")
    removedAtExit = folder
    atexit {
      if let folder = TestProcessFolder.removedAtExit {
        try? FileManager.default.removeItem(atPath: folder)
      }
    }
    return folder
  }()

  /// The folder the exit handler removes (set once, before the handler is registered).
  nonisolated(unsafe) static var removedAtExit: String?
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

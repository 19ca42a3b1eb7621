import Foundation
import GlimpseCore
import GlimpseData
import GlimpseRender

/// A figure's PNG decoded back (with GlimpseData's PNG decoder), read as 8-bit RGB.
///
/// When the environment variable `GLIMPSE_TEST_FIGURES` names a folder, the PNG is also written
/// there as `<name>.png`, so a person can look at what the tests check.
struct RenderedFigure: CustomStringConvertible {
  let image: Image

  init(_ png: [UInt8], name: String) throws {
    image = try PNGCodec.decode(png)
    if let folder = ProcessInfo.processInfo.environment["GLIMPSE_TEST_FIGURES"], !folder.isEmpty {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      try Data(png).write(to: URL(fileURLWithPath: folder + "/\(name).png"))
    }
  }

  /// Short, so that a failed expectation does not print every pixel.
  var description: String { "a \(width)×\(height) figure" }

  var width: Int { image.width }
  var height: Int { image.height }

  /// The pixel's red, green and blue as bytes (0…255).
  func rgb(_ x: Int, _ y: Int) -> [Int] {
    let channels = image.channels >= 3 ? [0, 1, 2] : [0, 0, 0]
    return channels.map { Int((image[x, y, $0] * 255).rounded()) }
  }

  /// Whether the pixel is `colour` to within `tolerance` levels of 255 per channel (Cairo
  /// rounds a colour through 16 bits, and antialiasing blends edges).
  func pixel(_ x: Int, _ y: Int, is colour: RGB, tolerance: Int = 2) -> Bool {
    zip(rgb(x, y), Self.bytes(colour)).allSatisfy { abs($0 - $1) <= tolerance }
  }

  /// The mean of the three channels, 0…255.
  func brightness(_ x: Int, _ y: Int) -> Double {
    Double(rgb(x, y).reduce(0, +)) / 3
  }

  /// Pixels in the box that are not `colour` (within `tolerance`).
  func count(
    notMatching colour: RGB, x: Range<Int>, y: Range<Int>, tolerance: Int = 2
  ) -> Int {
    var count = 0
    for row in y {
      for column in x where !pixel(column, row, is: colour, tolerance: tolerance) { count += 1 }
    }
    return count
  }

  /// The pixels of the whole picture that are `colour` (within `tolerance`).
  func positions(of colour: RGB, tolerance: Int = 2) -> [(x: Int, y: Int)] {
    var found: [(x: Int, y: Int)] = []
    for row in 0..<height {
      for column in 0..<width where pixel(column, row, is: colour, tolerance: tolerance) {
        found.append((column, row))
      }
    }
    return found
  }

  static func bytes(_ colour: RGB) -> [Int] {
    [colour.red, colour.green, colour.blue].map { Int(($0 * 255).rounded()) }
  }

  static let white = RGB(1, 1, 1)
}

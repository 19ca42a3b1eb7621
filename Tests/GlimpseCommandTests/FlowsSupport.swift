import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport

/// Small colour image folders for the flow tests: `root/<class>/<name>.png`.
enum FlowsImages {
  /// A colour image of `height × width`: a square of class `label`'s colour on a pale noisy
  /// background, so that a model learns the classes from colour alone.
  static func shapeImage(label: Int, height: Int, width: Int, seed: UInt64) -> Image {
    var rng = SeededGenerator(seed: seed)
    let colors: [[Double]] = [[0.85, 0.15, 0.15], [0.15, 0.65, 0.15], [0.15, 0.25, 0.85]]
    var pixels: [Double] = []
    pixels.reserveCapacity(height * width * 3)
    for y in 0..<height {
      for x in 0..<width {
        let inside = y > height / 4 && y < 3 * height / 4 && x > width / 4 && x < 3 * width / 4
        for c in 0..<3 {
          let noise = (rng.nextUnitDouble() - 0.5) * 0.1
          let base = inside ? colors[label % 3][c] : 0.9
          // Whole multiples of 1/255: what a PNG stores.
          pixels.append((min(1, max(0, base + noise)) * 255).rounded() / 255)
        }
      }
    }
    return Image(shape: ImageShape(height: height, width: width, channels: 3), pixels: pixels)
  }

  /// Writes `perClass` images of each of `classes` classes under `root`; `size(i)` gives the
  /// height and width of the i-th image of a class. Returns the paths written.
  @discardableResult
  static func writeFolder(
    _ root: String, classes: Int = 3, perClass: Int, seed: UInt64 = 1,
    size: (Int) -> (Int, Int) = { _ in (16, 16) }
  ) throws -> [String] {
    let names = ["circle", "square", "triangle"]
    var paths: [String] = []
    for label in 0..<classes {
      for i in 0..<perClass {
        let (h, w) = size(i)
        let image = shapeImage(
          label: label, height: h, width: w, seed: seed &* 1000 &+ UInt64(label * 100 + i))
        let path = "\(root)/\(names[label])/\(names[label])-\(i).png"
        try writeFile(PNGCodec.encode(image), to: path)
        paths.append(path)
      }
    }
    return paths
  }
}

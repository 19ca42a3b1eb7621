import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("Pixel codes (exact float32 kernel products)")
struct PixelCodesTests {
  /// `rows` rows of `width` pixel values k / 255: the first all 255 (the largest norm, which
  /// forces the split into chunks), the others random, half of them 0 as in digits.
  static func pixels(rows: Int, width: Int, seed: UInt64) -> (Matrix, [[Int]]) {
    var generator = SeededGenerator(seed: seed)
    let codes = (0..<rows).map { r in
      (0..<width).map { _ in
        r == 0 ? 255 : (generator.nextUnitDouble() < 0.5 ? 0 : Int(generator.next() % 256))
      }
    }
    let values = codes.flatMap { $0.map { Double($0) / 255 } }
    return (Matrix(rows: rows, columns: width, storage: values), codes)
  }

  @Test(
    "dot products equal the integer sums Σ k·m exactly, in one chunk or several (widths 30 to 1200)",
    arguments: [30, 300, 784, 1200])
  func dotProductsAreExact(width: Int) throws {
    // 784 columns of 255 need four chunks and 1200 need five (beyond the kept norms): every
    // path is taken. Integer sums are the reference; any rounding would show.
    let (a, aCodes) = Self.pixels(rows: 7, width: width, seed: 1)
    let (b, bCodes) = Self.pixels(rows: 5, width: width, seed: 2)
    let x = try #require(PixelCodes(a))
    let y = try #require(PixelCodes(b))
    let dots = PixelCodes.dotProducts(x, y)
    for i in 0..<7 {
      for j in 0..<5 {
        let exact = zip(aCodes[i], bCodes[j]).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(dots[i, j] == Double(exact), "row \(i), column \(j)")
      }
      #expect(x.squaredNorms[i] == Double(aCodes[i].reduce(0) { $0 + $1 * $1 }))
    }
  }

  @Test("values that are not k / 255 (negative, above 1, or between levels) give no codes")
  func nonPixelsAreRefused() {
    for value in [-1 / 255.0, 256 / 255.0, 0.5, 1e-9] {
      #expect(PixelCodes(Matrix([[0, value, 1]])) == nil, "\(value)")
    }
    #expect(PixelCodes(Matrix([[0, 128 / 255.0, 1]])) != nil)
  }

  @Test(
    "kernel values from pixel codes equal those of the double GEMM (RBF, linear, poly; 1e-12)",
    arguments: [
      Kernel.rbf(gamma: 0.0137), .linear, .polynomial(gamma: 0.01, coef0: 1, degree: 3),
    ])
  func kernelMatchesDoublePath(kernel: Kernel) throws {
    let (a, _) = Self.pixels(rows: 9, width: 196, seed: 3)
    let (b, _) = Self.pixels(rows: 6, width: 196, seed: 4)
    let x = try #require(PixelCodes(a))
    let y = try #require(PixelCodes(b))
    let fast = kernel.block(
      pixelDots: PixelCodes.dotProducts(x, y), aSquaredNorms: x.squaredNorms,
      bSquaredNorms: y.squaredNorms)
    let plain = kernel.block(a, b)
    let scale = plain.storage.map(abs).max() ?? 1
    #expect(maxAbsoluteDifference(fast.storage, plain.storage) <= 1e-12 * max(scale, 1))
  }
}

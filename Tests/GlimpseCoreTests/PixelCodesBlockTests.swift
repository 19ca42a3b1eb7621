import GlimpseCore
import Testing

/// The block form that KNN-Shapley uses against the whole-matrix form the SVM and k-NN use.
@Suite("PixelCodes: blocks of rows give the same exact products as the whole matrix")
struct PixelCodesBlockTests {
  @Test(
    "every block of rows equals those rows of dotProducts, bit for bit, also past the 2²⁴ bound")
  func blocksMatchTheWhole() throws {
    var generator = SeededGenerator(seed: 17)
    // 600 columns of 255 in the first row force a split into chunks (note 2).
    let width = 600
    func rows(_ count: Int) -> Matrix {
      var values = [Double](repeating: 1, count: width)
      for _ in 1..<count {
        values += (0..<width).map { _ in
          Bool.random(using: &generator)
            ? 0 : Double(Int.random(in: 0...255, using: &generator)) / 255
        }
      }
      return Matrix(rows: count, columns: width, storage: values)
    }
    let a = try #require(PixelCodes(rows(7)))
    let b = try #require(PixelCodes(rows(5)))
    let whole = PixelCodes.dotProducts(a, b)
    #expect(whole[0, 0] == Double(width) * 255 * 255)
    for block in [0..<3, 3..<7, 2..<5] {
      var part = Matrix(rows: block.count, columns: b.rows)
      PixelCodes.addDotProducts(a, rows: block, b, into: &part)
      for (offset, row) in block.enumerated() {
        for column in 0..<b.rows {
          #expect(part[offset, column].bitPattern == whole[row, column].bitPattern)
        }
      }
    }
  }
}

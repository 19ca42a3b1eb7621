import GlimpseCore
import GlimpseSegmentation
import Testing

@Suite("Grid")
struct GridSegmenterTests {
  @Test("a 4 × 6 image in 2 × 2 and 3 × 3 cells, written out")
  func literalGrids() {
    let image = Image(shape: ImageShape(height: 4, width: 6, channels: 3), repeating: 0.5)
    #expect(
      GridSegmenter(cellsPerSide: 2).segment(image).intLabels == [
        0, 0, 0, 1, 1, 1,
        0, 0, 0, 1, 1, 1,
        2, 2, 2, 3, 3, 3,
        2, 2, 2, 3, 3, 3,
      ])
    // Rows: y·3/4 = 0, 0, 1, 2; columns: x·3/6 = 0, 0, 1, 1, 2, 2.
    #expect(
      GridSegmenter(cellsPerSide: 3).segment(image).intLabels == [
        0, 0, 1, 1, 2, 2,
        0, 0, 1, 1, 2, 2,
        3, 3, 4, 4, 5, 5,
        6, 6, 7, 7, 8, 8,
      ])
  }

  @Test(
    "equals the seed's split_evenly, (row·n // 28)·n + col·n // 28, on a digit",
    arguments: [5, 7, 11])
  func seedFormula(n: Int) {
    let digit = Image(shape: ImageShape(height: 28, width: 28, channels: 1), repeating: 0)
    let map = GridSegmenter(cellsPerSide: n).segment(digit)
    var expected: [Int] = []
    for row in 0..<28 {
      for col in 0..<28 { expected.append((row * n / 28) * n + col * n / 28) }
    }
    #expect(map.intLabels == expected)
    #expect(map.count == n * n)
    // Cell sides differ by at most one pixel.
    let sizes = map.sizes
    #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 2 * (28 / n + 1))
  }

  @Test("more cells than pixels per side: empty cells are dropped and the rest renumbered")
  func moreCellsThanPixels() {
    let image = Image(shape: ImageShape(height: 2, width: 3, channels: 1), repeating: 0)
    let map = GridSegmenter(cellsPerSide: 4).segment(image)
    // Raw cells (y·4/2)·4 + x·4/3: rows 0, 2 → 0, 8; columns 0, 1, 2 → 0, 1, 2.
    #expect(map.intLabels == [0, 1, 2, 3, 4, 5])
  }
}

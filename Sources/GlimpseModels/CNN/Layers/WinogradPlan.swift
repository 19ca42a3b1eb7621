import GlimpseCore

/// The Winograd algorithm the layer uses for 3×3 kernels.
///
/// F(4×4, 3×3): the seed network's epoch at one thread took 0.38–0.40 s with it, 0.60 s with
/// F(2×2, 3×3) and 0.55–0.57 s with im2col (same binary, alternated runs). F(2×2) saves only
/// 1.9× of the multiplications and pays four times as many tile transforms per output.
typealias LayerWinograd = WinogradF4

/// The tiling of one batch for F(m×m, 3×3).
struct WinogradPlan {
  /// Outputs per tile side.
  let m: Int
  /// Inputs per tile side, m + 2.
  let alpha: Int
  let input: MapShape
  let output: MapShape
  let padding: Int
  let tileRows: Int
  let tileColumns: Int
  /// Images handled together (the lanes of every transform), so that one channel's grid of
  /// them stays in the L1 cache (14 × 14 × 32 values of Float is 25 KB for 13 × 13 inputs).
  let imagesPerBlock: Int

  init(m: Int, input: MapShape, output: MapShape, padding: Int) {
    self.m = m
    alpha = m + 2
    self.input = input
    self.output = output
    self.padding = padding
    tileRows = (output.height + m - 1) / m
    tileColumns = (output.width + m - 1) / m
    // Blocks of equal size, a multiple of 4 images where possible (no partial group of lanes).
    let grid = (tileRows * m + 2) * (tileColumns * m + 2)
    let most = max(4, 6272 / grid / 4 * 4)
    let blocks = max(1, (input.count + most - 1) / most)
    let even = (input.count + blocks - 1) / blocks
    imagesPerBlock = min(input.count, (even + 3) / 4 * 4)
  }

  /// Transform-domain positions, α².
  var positions: Int { alpha * alpha }
  var tilesPerImage: Int { tileRows * tileColumns }
  /// Tiles in the batch: the columns of every GEMM.
  var tiles: Int { input.count * tilesPerImage }
  /// Rows and columns of the input grid: the input with its zero padding, extended with zeros
  /// to whole tiles.
  var inputGrid: (rows: Int, columns: Int) { (tileRows * m + 2, tileColumns * m + 2) }
  /// Rows and columns of the output grid: the output extended to whole tiles.
  var outputGrid: (rows: Int, columns: Int) { (tileRows * m, tileColumns * m) }

  /// The distance between two transform-domain positions of an operand `[α², rows, tiles]`:
  /// `rows · tiles` values, plus one cache line when that is an even number of lines (note 7).
  func positionStride<Scalar>(rows: Int, _: Scalar.Type) -> Int {
    Self.paddedStride(values: rows * tiles, Scalar.self)
  }

  /// `values` rounded up to whole cache lines, plus one line when that is an even number of
  /// lines (note 7; also the ONNX runner's NCHW Winograd operands).
  static func paddedStride<Scalar>(values: Int, _: Scalar.Type) -> Int {
    let line = max(1, 64 / MemoryLayout<Scalar>.stride)
    let lines = (values + line - 1) / line
    return lines % 2 == 0 ? lines * line + line : lines * line
  }

  /// Calls `body(firstImage, images)` for each block of whole images.
  @inline(__always)
  func forEachBlock(_ body: (Int, Int) -> Void) {
    var first = 0
    while first < input.count {
      let count = min(imagesPerBlock, input.count - first)
      body(first, count)
      first += count
    }
  }
}

import GlimpseCore

// Implementation notes
// 1. Why: images read from 8-bit files or tables are k / 255 with integer codes k ≤ 255. A
//    float32 GEMM of such codes is exact while every partial sum stays below 2²⁴ (integers that
//    small are exact in float32, and so is every product and sum of them, FMA or not), runs at
//    twice dgemm's rate, and makes the squared distances Σ k² + Σ m² − 2 Σ k m exact integers:
//    ties between digits are then true ties, put in index order, not decided by rounding.
// 2. The bound: codes are ≥ 0, so every partial sum of Σ k m, in whatever order OpenBLAS adds,
//    is at most the whole sum, which is at most ‖k‖ ‖m‖ (Cauchy–Schwarz). When the largest
//    ‖k‖² times the largest ‖m‖² is below 2⁴⁸, one GEMM is exact (the 5000 sample digits reach
//    0.74 · 2⁴⁸); otherwise the columns are cut into chunks of at most 257, for which
//    (257 · 255²)² < 2⁴⁸ always holds, and the chunks' float sums are added in Double.
// 3. The recursion only needs the order, so distances stay in these integer units (255² times
//    the distance of the pixel values); dividing would only add rounding.
// 4. GlimpseModels' `PixelCodes` (SVM, k-NN) applies the same idea; it is internal there.

extension KNNShapley {
  /// Rows whose every value is an 8-bit level k / 255, as float32 codes k over chosen columns.
  struct PixelRows: Sendable {
    let rows: Int
    /// Codes per row (the chosen columns).
    let width: Int
    /// `[rows, width]`, row-major: the integers k.
    let codes: [Float]
    /// Σ k² over every column of each original row (exact in Double, < 2⁵³).
    let squaredNorms: [Double]

    /// The codes of `matrix`'s `columns`, or `nil` when some value, in any column, is not
    /// `Double(k) / 255` for an integer k in 0...255 (the readers' scaling).
    init?(_ matrix: Matrix, columns: [Int]) {
      let (rows, columnCount, width) = (matrix.rows, matrix.columns, columns.count)
      var codes = [Float](repeating: 0, count: rows * width)
      var norms = [Double](repeating: 0, count: rows)
      var rowCodes = [Float](repeating: 0, count: columnCount)
      let valid = matrix.storage.withUnsafeBufferPointer { values -> Bool in
        codes.withUnsafeMutableBufferPointer { codes in
          rowCodes.withUnsafeMutableBufferPointer { rowCodes in
            columns.withUnsafeBufferPointer { columns in
              Self.levels.withUnsafeBufferPointer { levels in
                for r in 0..<rows {
                  var norm = 0.0
                  for c in 0..<columnCount {
                    let value = values[r * columnCount + c]
                    // The range check first keeps the conversion to Int in range (and rejects
                    // NaN); then the value must be exactly the reader's k / 255.
                    guard value >= 0, value <= 1 else { return false }
                    let level = Int(value * 255 + 0.5)
                    guard levels[level] == value else { return false }
                    let code = Double(level)
                    rowCodes[c] = Float(code)
                    norm += code * code
                  }
                  norms[r] = norm
                  for position in 0..<width {
                    codes[r * width + position] = rowCodes[columns[position]]
                  }
                }
                return true
              }
            }
          }
        }
      }
      guard valid else { return nil }
      self.rows = rows
      self.width = width
      self.codes = codes
      self.squaredNorms = norms
    }

    /// `Double(k) / 255` for k in 0...255, as the readers scale bytes.
    static let levels: [Double] = (0...255).map { Double($0) / 255 }

    /// Column ranges whose float32 GEMMs of `a` against `b` are exact (note 2).
    static func exactChunks(_ a: PixelRows, _ b: PixelRows) -> [Range<Int>] {
      let width = a.width
      let largest = (a.squaredNorms.max() ?? 0) * (b.squaredNorms.max() ?? 0)
      let parts = largest < 0x1p48 ? 1 : max(1, (width + 256) / 257)
      return (0..<parts).map { ($0 * width / parts)..<(($0 + 1) * width / parts) }
    }
  }
}

// Implementation notes
// 1. Why: kernel values need x · s to double precision (the libsvm fixtures check probabilities
//    to 1e-9), which float32 sums do not give in general. But 8-bit images read as k / 255 have
//    integer codes k ≤ 255, and a float32 GEMM of integers is exact while every partial sum
//    stays below 2²⁴ (integers up to 2²⁴ are exact in float32, and so is every product and sum
//    of them below it, FMA or not). Then x · s = (Σ k m) / 255² with the sum exact: no
//    rounding at all in the products, and sgemm runs at twice dgemm's rate.
// 2. The bound: any partial sum of Σ_j k_j m_j is at most Σ_j |k_j m_j| ≤ ‖k‖ ‖m‖
//    (Cauchy–Schwarz), whatever order OpenBLAS adds in. The columns are split into as few
//    equal chunks as make max‖k_chunk‖² · max‖m_chunk‖² < 2⁴⁸ in every chunk (257 columns of
//    255s always do); each chunk's sums are converted to double and added there. The anchor
//    digits need one or two chunks.
// 3. Squared norms Σ k² are exact integers in double (< 2⁵³), so RBF distances
//    (‖k‖² + ‖m‖² − 2 k · m) / 255² have no cancellation error either.
// 4. One home for the SVM's and k-NN's kernels (GlimpseModels) and KNN-Shapley's distances
//    (GlimpseValuation), whose ties between digits are then true ties, put in index order, not
//    decided by rounding. The sums are exact integers whatever the chunking, so the result does
//    not depend on it (nor on the rows taken at once).

/// Rows whose every value is an 8-bit level k / 255 (k in 0...255), kept as the codes k in
/// float32, for exact dot products by `sgemm`.
package struct PixelCodes: Sendable, Equatable {
  /// Rows.
  package let rows: Int
  /// Codes per row.
  package let columns: Int
  /// `[rows, columns]`, row-major: the integers k.
  package let codes: [Float]
  /// Σ k² over every value of each original row (including columns left out of `codes`).
  package let squaredNorms: [Double]
  /// For `parts` in 1...`largestSplit`, entry `parts − 1` holds, for each of `chunks(parts)`,
  /// the largest Σ k² of a row over that chunk's columns.
  private let chunkNorms: [[Double]]

  /// `Double(k) / 255` for k in 0...255, as the readers compute them (a lookup instead of a
  /// division per value).
  package static let levels: [Double] = (0...255).map { Double($0) / 255 }

  /// 255², the scale of dot products and squared norms of codes.
  package static let scale = 65025.0
  /// The most chunks whose norms are kept; beyond, the guaranteed split is used (note 2).
  static let largestSplit = 4

  /// The codes of `matrix`'s `columns` (all when `nil`), or `nil` when some value of the matrix,
  /// in any column, is not k / 255.
  package init?(_ matrix: Matrix, columns selected: [Int]? = nil) {
    let (rows, width) = (matrix.rows, matrix.columns)
    let kept = selected ?? Array(0..<width)
    let keptCount = kept.count
    var codes = [Float](repeating: 0, count: rows * keptCount)
    var norms = [Double](repeating: 0, count: rows)
    var code = [Float](repeating: 0, count: width)
    var prefix = [Double](repeating: 0, count: keptCount + 1)
    var chunkNorms = (1...Self.largestSplit).map { [Double](repeating: 0, count: $0) }
    let splits = (1...Self.largestSplit).map { Self.chunks($0, of: keptCount) }
    let valid = matrix.storage.withUnsafeBufferPointer { buffer -> Bool in
      kept.withUnsafeBufferPointer { keptBuffer in
        code.withUnsafeMutableBufferPointer { codeBuffer in
          codes.withUnsafeMutableBufferPointer { codesBuffer in
            prefix.withUnsafeMutableBufferPointer { prefixBuffer in
              Self.levels.withUnsafeBufferPointer { levelBuffer in
                guard let base = buffer.baseAddress, let kept = keptBuffer.baseAddress,
                  let code = codeBuffer.baseAddress, let codes = codesBuffer.baseAddress,
                  let prefix = prefixBuffer.baseAddress, let levels = levelBuffer.baseAddress
                else { return rows == 0 || width == 0 }
                for r in 0..<rows {
                  let row = base + r * width
                  var norm = 0.0
                  for j in 0..<width {
                    let value = row[j]
                    // The readers scale bytes as `Double(k) / 255`; anything else is not a
                    // code. (The range check comes first: it keeps the conversion in range.)
                    guard value >= 0, value <= 1 else { return false }
                    let level = Int(value * 255 + 0.5)
                    guard levels[level] == value else { return false }
                    let k = Double(level)
                    code[j] = Float(k)
                    norm += k * k
                  }
                  norms[r] = norm
                  // Running sums of k² over the kept columns give every chunk's sum by one
                  // subtraction.
                  let target = codes + r * keptCount
                  var running = 0.0
                  for position in 0..<keptCount {
                    let k = code[kept[position]]
                    target[position] = k
                    running += Double(k * k)
                    prefix[position + 1] = running
                  }
                  for parts in 1...Self.largestSplit {
                    for (c, chunk) in splits[parts - 1].enumerated() {
                      let sum = prefix[chunk.upperBound] - prefix[chunk.lowerBound]
                      chunkNorms[parts - 1][c] = max(chunkNorms[parts - 1][c], sum)
                    }
                  }
                }
                return true
              }
            }
          }
        }
      }
    }
    guard valid else { return nil }
    self.rows = rows
    self.columns = keptCount
    self.codes = codes
    self.squaredNorms = norms
    self.chunkNorms = chunkNorms
  }

  /// `0..<width` in `parts` near-equal contiguous chunks.
  static func chunks(_ parts: Int, of width: Int) -> [Range<Int>] {
    (0..<parts).map { ($0 * width / parts)..<(($0 + 1) * width / parts) }
  }

  /// `[a.rows, b.rows]`: the exact integer dot products Σ k m of every row of `a` with every
  /// row of `b` (the dot products of the original rows times 255²).
  /// - Precondition: `a` and `b` have the same columns.
  package static func dotProducts(_ a: PixelCodes, _ b: PixelCodes) -> Matrix {
    var result = Matrix(rows: a.rows, columns: b.rows)
    addDotProducts(a, rows: 0..<a.rows, b, into: &result)
    return result
  }

  /// Adds to `result`, `[rows.count, b.rows]`, the exact integer dot products Σ k m of `a`'s
  /// rows `rows` with every row of `b` (a block of `dotProducts(a, b)`, for callers that work
  /// through `a` in blocks; `result` starts at zero for the products themselves).
  /// - Precondition: `a` and `b` have the same columns; `rows` lies in `0..<a.rows`.
  package static func addDotProducts(
    _ a: PixelCodes, rows: Range<Int>, _ b: PixelCodes, into result: inout Matrix
  ) {
    precondition(a.columns == b.columns, "codes of \(a.columns) and \(b.columns) columns")
    precondition(rows.lowerBound >= 0 && rows.upperBound <= a.rows, "rows \(rows) of \(a.rows)")
    precondition(
      result.rows == rows.count && result.columns == b.rows,
      "result is [\(result.rows), \(result.columns)], not [\(rows.count), \(b.rows)]")
    let width = a.columns
    guard !rows.isEmpty, b.rows > 0, width > 0 else { return }
    // As few chunks as keep every partial sum below 2²⁴ (note 2); chunks of ≤ 257 columns
    // always do, since (257 · 255²)² < 2⁴⁸. (`a`'s bounds hold for any of its rows.)
    let parts =
      (1...largestSplit).first { parts in
        zip(a.chunkNorms[parts - 1], b.chunkNorms[parts - 1]).allSatisfy { $0 * $1 < 0x1p48 }
      } ?? max(largestSplit + 1, (width + 256) / 257)
    let count = rows.count * b.rows
    var partial = [Float](repeating: 0, count: count)
    a.codes.withUnsafeBufferPointer { aBuffer in
      b.codes.withUnsafeBufferPointer { bBuffer in
        result.storage.withUnsafeMutableBufferPointer { rBuffer in
          partial.withUnsafeMutableBufferPointer { pBuffer in
            guard let x = aBuffer.baseAddress, let y = bBuffer.baseAddress,
              let out = rBuffer.baseAddress, let sums = pBuffer.baseAddress
            else { return }
            let first = x + rows.lowerBound * width
            for chunk in chunks(parts, of: width) where !chunk.isEmpty {
              Float.gemm(
                transposeA: false, transposeB: true, m: rows.count, n: b.rows, k: chunk.count,
                alpha: 1, a: first + chunk.lowerBound, lda: width, b: y + chunk.lowerBound,
                ldb: width, beta: 0, c: sums, ldc: b.rows)
              for i in 0..<count { out[i] += Double(sums[i]) }
            }
          }
        }
      }
    }
  }
}

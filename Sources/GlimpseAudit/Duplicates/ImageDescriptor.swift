import GlimpseCore

/// A small grey copy of an image on which near-duplicates and outliers are compared: BT.601 luma
/// (`0.299 R + 0.587 G + 0.114 B`, the one channel of a grey image) on values in [0, 1],
/// area-resampled to `side × side` (each output cell averages the input area it covers, with
/// fractional coverage at its edges), so images of any size and channel count compare alike.
public struct ImageDescriptor: Sendable, Equatable {
  /// The side of the square grey copy.
  public static let side = 32

  /// `side × side` grey values, row-major.
  public var values: [Double]

  /// The descriptor of an image given as 8-bit samples.
  public init(shape: ImageShape, samples: [UInt8]) {
    let side = Self.side
    let grey: [Double]
    if shape.channels >= 3 {
      grey = (0..<shape.pixelCount).map { pixel in
        let base = pixel * shape.channels
        return
          (0.299 * Double(samples[base]) + 0.587 * Double(samples[base + 1]) + 0.114
          * Double(samples[base + 2])) / 255
      }
    } else {
      grey = (0..<shape.pixelCount).map { Double(samples[$0 * shape.channels]) / 255 }
    }
    let rowWeights = Self.areaWeights(input: shape.height, output: side)
    let columnWeights = Self.areaWeights(input: shape.width, output: side)
    // Columns first (height × side), then rows.
    var narrow = [Double](repeating: 0, count: shape.height * side)
    for y in 0..<shape.height {
      for (x, cell) in columnWeights.enumerated() {
        var sum = 0.0
        for (offset, weight) in cell.weights.enumerated() {
          sum += weight * grey[y * shape.width + cell.start + offset]
        }
        narrow[y * side + x] = sum
      }
    }
    var result = [Double](repeating: 0, count: side * side)
    for (y, cell) in rowWeights.enumerated() {
      for (offset, weight) in cell.weights.enumerated() {
        let source = (cell.start + offset) * side
        for x in 0..<side { result[y * side + x] += weight * narrow[source + x] }
      }
    }
    values = result
  }

  /// For each of `output` cells over `input` samples: the first sample it covers and the
  /// weight of each covered sample (its overlap with the cell over the cell's width).
  static func areaWeights(input: Int, output: Int) -> [(start: Int, weights: [Double])] {
    let step = Double(input) / Double(output)
    return (0..<output).map { cell in
      let low = Double(cell) * step
      let high = Double(cell + 1) * step
      let first = Int(low.rounded(.down))
      let last = min(Int(high.rounded(.up)), input)
      let weights = (first..<last).map { k in
        (min(high, Double(k + 1)) - max(low, Double(k))) / step
      }
      return (first, weights)
    }
  }

  /// The near-duplicate distance: the smallest `1 − r` over translations of up to `shift`
  /// cells each way, and over half-cell moves of either image (each cell averaged with its left,
  /// upper, or left, upper and upper-left neighbours), `r` being Pearson's correlation of the
  /// two descriptors on their overlap.
  ///
  /// Correlation ignores a change of brightness and contrast (an affine change of the values);
  /// the minimum over translations forgives a crop or shift of a few pixels; the half-cell moves
  /// forgive a shift that falls between cells (2 pixels of a 128-pixel image is half a cell: a
  /// textured cat crop moved so lay at 0.029 with whole cells only, at 0.004 with them); the
  /// averaging into cells blurs away JPEG artefacts and light noise. 0 for identical
  /// descriptors, 1 for uncorrelated ones. A constant overlap (a blank image) has no
  /// correlation: it counts as `r = 1` against another constant overlap and `r = 0` against
  /// anything else.
  ///
  /// - Parameter halfCellsBelow: Try the half-cell moves only when the whole-cell distance is
  ///   under this (infinity: always); a pruning for callers that only need to know whether the
  ///   distance is small.
  public func distance(
    to other: ImageDescriptor, shift: Int = 2, halfCellsBelow: Double = .infinity
  ) -> Double {
    var best = Self.shiftedDistance(values, other.values, shift: shift)
    guard best < halfCellsBelow else { return max(best, 0) }
    for (first, second) in [(values, other.values), (other.values, values)] {
      for (right, down) in [(true, false), (false, true), (true, true)] {
        let moved = Self.halfCellMove(second, right: right, down: down)
        best = min(best, Self.shiftedDistance(first, moved, shift: shift))
      }
    }
    return max(best, 0)
  }

  /// `values` moved half a cell right and/or down: each cell averaged with its neighbour to the
  /// left and/or above (first row and column kept as they are).
  static func halfCellMove(_ values: [Double], right: Bool, down: Bool) -> [Double] {
    let side = Self.side
    var result = values
    if down {
      for y in stride(from: side - 1, through: 1, by: -1) {
        for x in 0..<side {
          result[y * side + x] = (result[y * side + x] + result[(y - 1) * side + x]) / 2
        }
      }
    }
    if right {
      for y in 0..<side {
        for x in stride(from: side - 1, through: 1, by: -1) {
          result[y * side + x] = (result[y * side + x] + result[y * side + x - 1]) / 2
        }
      }
    }
    return result
  }

  /// The smallest `1 − r` between `first` and `second` over whole-cell translations of up to
  /// `shift` cells each way (symmetric: moving `second` by `s` is moving `first` by `−s`).
  ///
  /// The sums and sums of squares over each overlap come from summed-area tables (Crow 1984,
  /// "Summed-area tables for texture mapping", SIGGRAPH), so each translation costs one pass of
  /// products `Σ a·b` instead of five running sums.
  static func shiftedDistance(_ first: [Double], _ second: [Double], shift: Int) -> Double {
    let side = Self.side
    let sumsA = SummedArea(first, side: side)
    let sumsB = SummedArea(second, side: side)
    var best = Double.infinity
    first.withUnsafeBufferPointer { a in
      second.withUnsafeBufferPointer { b in
        for dy in -shift...shift {
          for dx in -shift...shift {
            let rowsA = max(0, -dy)
            let rowsB = max(0, dy)
            let columnsA = max(0, -dx)
            let columnsB = max(0, dx)
            let height = side - abs(dy)
            let width = side - abs(dx)
            // Four partial sums: independent chains the processor can overlap (one running sum
            // waits for each addition to finish before the next).
            var partial = (0.0, 0.0, 0.0, 0.0)
            for y in 0..<height {
              let baseA = (rowsA + y) * side + columnsA
              let baseB = (rowsB + y) * side + columnsB
              var x = 0
              while x + 4 <= width {
                partial.0 += a[baseA + x] * b[baseB + x]
                partial.1 += a[baseA + x + 1] * b[baseB + x + 1]
                partial.2 += a[baseA + x + 2] * b[baseB + x + 2]
                partial.3 += a[baseA + x + 3] * b[baseB + x + 3]
                x += 4
              }
              while x < width {
                partial.0 += a[baseA + x] * b[baseB + x]
                x += 1
              }
            }
            let sab = (partial.0 + partial.1) + (partial.2 + partial.3)
            let (sa, saa) = sumsA.rectangle(
              top: rowsA, left: columnsA, height: height, width: width)
            let (sb, sbb) = sumsB.rectangle(
              top: rowsB, left: columnsB, height: height, width: width)
            let m = Double(height * width)
            let varianceA = saa - sa * sa / m
            let varianceB = sbb - sb * sb / m
            let flat = 1e-12 * m
            let r: Double
            if varianceA <= flat || varianceB <= flat {
              r = varianceA <= flat && varianceB <= flat ? 1 : 0
            } else {
              r = (sab - sa * sb / m) / (varianceA * varianceB).squareRoot()
            }
            best = min(best, 1 - r)
          }
        }
      }
    }
    return best
  }

  /// A coarse, shift-tolerant summary for finding candidates: the descriptor above its minimum,
  /// moved (bilinearly, zero outside) so that its centre of mass sits at the centre, then the
  /// mean of each 4 × 4 block (8 × 8 values), centred and scaled to unit length, so that a dot
  /// product is a correlation. Centring undoes a translation before the blocks are taken (a
  /// 2-pixel shift of a digit otherwise moves it half a block and out of its copy's 10 nearest
  /// summaries); subtracting the minimum keeps the centre of mass under a change of brightness.
  func coarse() -> [Double] {
    let side = Self.side
    let low = values.min() ?? 0
    let weights = values.map { $0 - low }
    var total = 0.0
    var rowMoment = 0.0
    var columnMoment = 0.0
    for y in 0..<side {
      for x in 0..<side {
        let w = weights[y * side + x]
        total += w
        rowMoment += w * Double(y)
        columnMoment += w * Double(x)
      }
    }
    let middle = Double(side - 1) / 2
    let shiftY = total > 0 ? middle - rowMoment / total : 0
    let shiftX = total > 0 ? middle - columnMoment / total : 0
    func weight(_ y: Int, _ x: Int) -> Double {
      guard y >= 0, y < side, x >= 0, x < side else { return 0 }
      return weights[y * side + x]
    }
    let block = 4
    let cells = side / block
    var result = [Double](repeating: 0, count: cells * cells)
    for y in 0..<side {
      for x in 0..<side {
        let sourceY = Double(y) - shiftY
        let sourceX = Double(x) - shiftX
        let y0 = Int(sourceY.rounded(.down))
        let x0 = Int(sourceX.rounded(.down))
        let fy = sourceY - Double(y0)
        let fx = sourceX - Double(x0)
        let value =
          (1 - fy) * ((1 - fx) * weight(y0, x0) + fx * weight(y0, x0 + 1)) + fy
          * ((1 - fx) * weight(y0 + 1, x0) + fx * weight(y0 + 1, x0 + 1))
        result[(y / block) * cells + x / block] += value
      }
    }
    let mean = result.reduce(0, +) / Double(result.count)
    result = result.map { $0 - mean }
    let norm = result.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return norm > 0 ? result.map { $0 / norm } : result
  }
}

/// Summed-area tables of a square grid's values and squared values: the sum over any rectangle
/// in four look-ups.
struct SummedArea {
  let side: Int
  /// `(side + 1)²`: `sums[y][x]` is the sum over rows `0..<y`, columns `0..<x`.
  var sums: [Double]
  /// The same for the squared values.
  var squares: [Double]

  init(_ values: [Double], side: Int) {
    self.side = side
    let stride = side + 1
    var sums = [Double](repeating: 0, count: stride * stride)
    var squares = sums
    for y in 0..<side {
      var row = 0.0
      var rowSquares = 0.0
      for x in 0..<side {
        let value = values[y * side + x]
        row += value
        rowSquares += value * value
        sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + row
        squares[(y + 1) * stride + x + 1] = squares[y * stride + x + 1] + rowSquares
      }
    }
    self.sums = sums
    self.squares = squares
  }

  /// The sum and the sum of squares over rows `top..<top + height`, columns `left..<left + width`.
  func rectangle(top: Int, left: Int, height: Int, width: Int) -> (Double, Double) {
    let stride = side + 1
    let a = top * stride + left
    let b = top * stride + left + width
    let c = (top + height) * stride + left
    let d = (top + height) * stride + left + width
    return (
      sums[d] - sums[b] - sums[c] + sums[a], squares[d] - squares[b] - squares[c] + squares[a]
    )
  }
}

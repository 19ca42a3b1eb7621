/// The summation and rounding rules cleanlab's counts go through, reproduced so a confident
/// joint rounds to the same integers as cleanlab 2.9 (on numpy 1.26) given the same
/// probabilities. Where an exact half or a tie decides an integer, the order of a sum matters.
enum NumpyRounding {
  /// numpy's pairwise summation of contiguous `Double`s (`np.add.reduce`, used by `np.sum` and
  /// `np.mean`): below 8 terms a plain loop; up to 128, eight interleaved partial sums added
  /// as a tree and the remainder appended; above, the two halves (split at a multiple of 8)
  /// summed recursively.
  static func pairwiseSum(_ values: ArraySlice<Double>) -> Double {
    let count = values.count
    let start = values.startIndex
    if count < 8 {
      var sum = 0.0
      for value in values { sum += value }
      return sum
    }
    if count <= 128 {
      var partial = [Double](values[start..<(start + 8)])
      var index = 8
      while index < count - count % 8 {
        for lane in 0..<8 { partial[lane] += values[start + index + lane] }
        index += 8
      }
      var sum =
        ((partial[0] + partial[1]) + (partial[2] + partial[3]))
        + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
      while index < count {
        sum += values[start + index]
        index += 1
      }
      return sum
    }
    var half = count / 2
    half -= half % 8
    return pairwiseSum(values[start..<(start + half)])
      + pairwiseSum(values[(start + half)...])
  }

  /// `pairwiseSum` of a whole array.
  static func pairwiseSum(_ values: [Double]) -> Double { pairwiseSum(values[...]) }

  /// Rounds each value (half to even, as `np.round`) and then moves the rounding by ±1 on the
  /// entries rounded furthest the wrong way until the integers add up to the rounded sum of
  /// the floats: cleanlab's `round_preserving_sum`. Entries are ordered by `value − rounded`
  /// ascending (ties by position), reversed when the sum must grow.
  static func roundPreservingSum(_ values: [Double]) -> [Int] {
    // numpy would carry a NaN (a class with no rows divided by zero) into garbage; count it 0.
    let values = values.map { $0.isFinite ? $0 : 0 }
    var rounded = values.map { $0.rounded(.toNearestOrEven) }
    let target = pairwiseSum(values).rounded(.toNearestOrEven)
    var total = pairwiseSum(rounded).rounded(.toNearestOrEven)
    while abs(total - target) > 1e-6 {
      let difference = (target - total).rounded(.toNearestOrEven)
      let increment: Double = difference < 0 ? -1 : 1
      let changes = min(Int(abs(difference)), values.count)
      let gaps = zip(values, rounded).map { $0 - $1 }
      var order = gaps.indices.sorted { (gaps[$0], $0) < (gaps[$1], $1) }
      if increment > 0 { order.reverse() }
      for index in order.prefix(changes) { rounded[index] += increment }
      total = pairwiseSum(rounded).rounded(.toNearestOrEven)
    }
    return rounded.map { Int($0) }
  }

  /// `roundPreservingSum` of each row: cleanlab's `round_preserving_row_totals`.
  static func roundPreservingRowTotals(_ matrix: [[Double]]) -> [[Int]] {
    matrix.map(roundPreservingSum)
  }
}

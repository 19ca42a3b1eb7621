import GlimpseCore

extension KNNShapley {
  /// The per-validation-point work: distances, the sorted order, and Theorem 1's recursion.
  struct Kernel: Sendable {
    let k: Int
    let training: Matrix
    let trainingNorms: [Double]
    let trainingLabels: [Int]
    let validation: Matrix
    let validationNorms: [Double]
    /// Validation labels as training class indices; −1 matches no training point.
    let validationLabels: [Int]
    /// Low bits of a sort key that hold the training index.
    let indexBits: Int
    /// `stepSizes[i]` = 1 / max(k, i) for ranks i in 1..<N (index 0 unused). pyDVL adds
    /// (±1) / max(k, i); for ±1 that quotient is exactly ±(1 / max(k, i)), so a table lookup
    /// rounds the same as its division.
    let stepSizes: [Double]

    init(
      k: Int, training: Matrix, trainingLabels: [Int], validation: Matrix, validationLabels: [Int]
    ) {
      self.k = k
      self.training = training
      self.trainingLabels = trainingLabels
      self.validation = validation
      self.validationLabels = validationLabels
      trainingNorms = training.rowSquaredNorms()
      validationNorms = validation.rowSquaredNorms()
      let largestIndex = UInt64(max(training.rows - 1, 0))
      indexBits = max(1, UInt64.bitWidth - largestIndex.leadingZeroBitCount)
      stepSizes = (0..<max(training.rows, 1)).map { 1 / Double(max(k, $0)) }
    }

    /// For every training point, the sum of its s over the validation rows in `rows` (row order).
    func blockSums(rows: Range<Int>) -> [Double] {
      let n = training.rows
      var distances = Matrix(rows: rows.count, columns: n)
      Matrix.multiply(validation.selectingRows(rows), training, transposeB: true, into: &distances)
      var sums = [Double](repeating: 0, count: n)
      var keys = [UInt64](repeating: 0, count: n)
      distances.storage.withUnsafeMutableBufferPointer { block in
        keys.withUnsafeMutableBufferPointer { keys in
          sums.withUnsafeMutableBufferPointer { sums in
            for (offset, row) in rows.enumerated() {
              let rowDistances = UnsafeMutableBufferPointer(rebasing: block[offset * n..<(offset + 1) * n])
              squaredDistances(row: row, crossTerms: rowDistances)
              sortedOrder(rowDistances, into: keys)
              accumulate(order: keys, label: validationLabels[row], into: sums)
            }
          }
        }
      }
      return sums
    }

    /// Turns the cross terms v·t of one validation row into ‖v‖² + ‖t‖² − 2 v·t, in place.
    private func squaredDistances(row: Int, crossTerms: UnsafeMutableBufferPointer<Double>) {
      let vNorm = validationNorms[row]
      trainingNorms.withUnsafeBufferPointer { tNorms in
        for j in crossTerms.indices {
          let d = vNorm + tNorms[j] - 2 * crossTerms[j]
          // Rounding can push the difference of nearly equal numbers below 0; `d > 0` also
          // avoids −0, whose bit pattern would sort last.
          crossTerms[j] = d > 0 ? d : 0
        }
      }
    }

    /// Training indices sorted by (distance, index), as keys whose low `indexBits` bits are the
    /// index (see implementation note 4 in KNNShapley.swift).
    private func sortedOrder(
      _ distances: UnsafeMutableBufferPointer<Double>, into keys: UnsafeMutableBufferPointer<UInt64>
    ) {
      let indexMask: UInt64 = (1 << UInt64(indexBits)) &- 1
      // A non-negative Double's bit pattern orders as the Double does.
      for j in distances.indices {
        keys[j] = (distances[j].bitPattern & ~indexMask) | UInt64(j)
      }
      var sorting = keys  // the same memory; `sort` needs a variable
      sorting.sort()
      // Keys that share their high bits are in index order; put each such run in exact
      // distance order, keeping index order among equal distances (a stable insertion sort).
      var start = 0
      while start < keys.count {
        let bucket = keys[start] >> UInt64(indexBits)
        var end = start + 1
        while end < keys.count && keys[end] >> UInt64(indexBits) == bucket { end += 1 }
        if end - start > 1 {
          for i in (start + 1)..<end {
            let key = keys[i]
            let distance = distances[Int(key & indexMask)]
            var slot = i
            while slot > start && distances[Int(keys[slot - 1] & indexMask)] > distance {
              keys[slot] = keys[slot - 1]
              slot -= 1
            }
            keys[slot] = key
          }
        }
        start = end
      }
    }

    /// Adds Theorem 1's s of every training point, for one validation point, to `sums`.
    private func accumulate(
      order keys: UnsafeMutableBufferPointer<UInt64>, label: Int, into sums: UnsafeMutableBufferPointer<Double>
    ) {
      let n = keys.count
      let indexMask: UInt64 = (1 << UInt64(indexBits)) &- 1
      trainingLabels.withUnsafeBufferPointer { labels in
        stepSizes.withUnsafeBufferPointer { steps in
          // The farthest point: s(α_N) = 1[match] / max(k, N) (Theorem 1 writes 1/N and
          // assumes N ≥ k; see implementation note 2 in KNNShapley.swift).
          var point = Int(keys[n - 1] & indexMask)
          var farMatches = labels[point] == label
          var s = farMatches ? 1 / Double(max(k, n)) : 0
          sums[point] += s
          // From far to near: rank i (1-based) is keys[i − 1].
          var rank = n - 1
          while rank >= 1 {
            point = Int(keys[rank - 1] & indexMask)
            let matches = labels[point] == label
            if matches != farMatches { s += matches ? steps[rank] : -steps[rank] }
            sums[point] += s
            farMatches = matches
            rank -= 1
          }
        }
      }
    }
  }
}

import GlimpseCore

extension KNNShapley {
  /// The per-validation-point work: distances, the sorted order, and Theorem 1's recursion.
  struct Kernel: Sendable {
    /// Where the cross terms v·t come from.
    enum CrossTerms: Sendable {
      /// 8-bit pixels: exact float32 GEMMs of the codes (GlimpseCore's `PixelCodes`), so that
      /// squared distances are exact integers and ties between digits are true ties. Distances
      /// stay in these units (255² times those of the pixel values): the recursion only needs
      /// their order, and dividing would only add rounding.
      case pixels(training: PixelCodes, validation: PixelCodes)
      /// Any other rows: one dgemm per block.
      case general(training: Matrix, validation: Matrix)
    }

    let k: Int
    let crossTerms: CrossTerms
    let trainingCount: Int
    /// ‖t‖², in the cross terms' units.
    let trainingNorms: [Double]
    let trainingLabels: [Int]
    /// ‖v‖², in the cross terms' units.
    let validationNorms: [Double]
    /// Validation labels as training class indices; −1 matches no training point.
    let validationLabels: [Int]
    /// `stepSizes[i]` = 1 / max(k, i) for ranks i in 1..<N (index 0 unused). pyDVL adds
    /// (±1) / max(k, i); for ±1 that quotient is exactly ±(1 / max(k, i)), so a table lookup
    /// rounds the same as its division.
    let stepSizes: [Double]

    init(
      k: Int, training: Matrix, trainingLabels: [Int], validation: Matrix, validationLabels: [Int]
    ) {
      self.k = k
      self.trainingLabels = trainingLabels
      self.validationLabels = validationLabels
      trainingCount = training.rows
      // A column that is zero in every row of one side adds nothing to any cross term v·t, so
      // the GEMM skips it (the norms keep it). Images have such columns at their borders:
      // 784 → 605 for the 5000 × 1000 digit bench.
      let used = Self.columnsUsedByBoth(training, validation)
      if let pixelTraining = PixelCodes(training, columns: used),
        let pixelValidation = PixelCodes(validation, columns: used)
      {
        crossTerms = .pixels(training: pixelTraining, validation: pixelValidation)
        trainingNorms = pixelTraining.squaredNorms
        validationNorms = pixelValidation.squaredNorms
      } else {
        trainingNorms = training.rowSquaredNorms()
        validationNorms = validation.rowSquaredNorms()
        crossTerms =
          used.count < training.columns
          ? .general(
            training: Self.selectingColumns(used, of: training),
            validation: Self.selectingColumns(used, of: validation))
          : .general(training: training, validation: validation)
      }
      stepSizes = (0..<max(training.rows, 1)).map { 1 / Double(max(k, $0)) }
    }

    /// Columns with a non-zero value in some row of `a` and in some row of `b`.
    static func columnsUsedByBoth(_ a: Matrix, _ b: Matrix) -> [Int] {
      func nonZeroColumns(_ m: Matrix) -> [Bool] {
        var used = [Bool](repeating: false, count: m.columns)
        m.storage.withUnsafeBufferPointer { values in
          used.withUnsafeMutableBufferPointer { used in
            for r in 0..<m.rows {
              for c in 0..<m.columns where values[r * m.columns + c] != 0 { used[c] = true }
            }
          }
        }
        return used
      }
      let (inA, inB) = (nonZeroColumns(a), nonZeroColumns(b))
      return (0..<a.columns).filter { inA[$0] && inB[$0] }
    }

    /// The given columns of every row, in that order.
    static func selectingColumns(_ columns: [Int], of matrix: Matrix) -> Matrix {
      var storage = [Double]()
      storage.reserveCapacity(matrix.rows * columns.count)
      matrix.storage.withUnsafeBufferPointer { values in
        for r in 0..<matrix.rows {
          for c in columns { storage.append(values[r * matrix.columns + c]) }
        }
      }
      return Matrix(rows: matrix.rows, columns: columns.count, storage: storage)
    }

    /// For every training point, the sum of its s over the validation rows in `rows` (row order).
    func blockSums(rows: Range<Int>) -> [Double] {
      let n = trainingCount
      var distances = Matrix(rows: rows.count, columns: n)
      switch crossTerms {
      case .general(let training, let validation):
        Matrix.multiply(
          validation.selectingRows(rows), training, transposeB: true, into: &distances)
      case .pixels(let training, let validation):
        PixelCodes.addDotProducts(validation, rows: rows, training, into: &distances)
      }
      var sums = [Double](repeating: 0, count: n)
      var order = [Int32](repeating: 0, count: n)
      var scratch = SortScratch(count: n)
      distances.storage.withUnsafeMutableBufferPointer { block in
        order.withUnsafeMutableBufferPointer { order in
          sums.withUnsafeMutableBufferPointer { sums in
            for (offset, row) in rows.enumerated() {
              let rowDistances = UnsafeMutableBufferPointer(
                rebasing: block[offset * n..<(offset + 1) * n])
              squaredDistances(row: row, crossTerms: rowDistances)
              sortedOrder(rowDistances, scratch: &scratch, into: order)
              accumulate(order: order, label: validationLabels[row], into: sums)
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

    /// Fills `order` with the training indices sorted by (distance, index).
    ///
    /// A least-significant-digit radix sort (11-bit digits) on the top 32 bits of each distance's
    /// bit pattern, which order like the distance for values ≥ 0 (sign, exponent and 20 mantissa
    /// bits, taken relative to the row's smallest); it is stable, so equal keys stay in index
    /// order. Distances that share a key (they agree to ~1e-6) are then put in exact order by
    /// a stable sort of each such run. See implementation note 4 in KNNShapley.swift.
    private func sortedOrder(
      _ distances: UnsafeMutableBufferPointer<Double>, scratch: inout SortScratch,
      into order: UnsafeMutableBufferPointer<Int32>
    ) {
      let n = distances.count
      var low = UInt32.max
      var high = UInt32.min
      for j in 0..<n {
        let key = UInt32(truncatingIfNeeded: distances[j].bitPattern >> 32)
        low = min(low, key)
        high = max(high, key)
      }
      let range = high - low
      let passes = range == 0 ? 0 : (UInt32.bitWidth - range.leadingZeroBitCount + 10) / 11
      // Items are (key − low) << 32 | index; a pass scatters by one 11-bit digit of the key.
      scratch.items.withUnsafeMutableBufferPointer { items in
        scratch.spare.withUnsafeMutableBufferPointer { spare in
          scratch.counts.withUnsafeMutableBufferPointer { counts in
            for j in 0..<n {
              let key = UInt32(truncatingIfNeeded: distances[j].bitPattern >> 32) - low
              items[j] = UInt64(key) << 32 | UInt64(j)
            }
            var source = items
            var target = spare
            for pass in 0..<passes {
              let shift = UInt64(32 + 11 * pass)
              for digit in 0..<2048 { counts[digit] = 0 }
              for i in 0..<n { counts[Int((source[i] >> shift) & 2047)] += 1 }
              var total = 0
              for digit in 0..<2048 {
                let count = counts[digit]
                counts[digit] = total
                total += count
              }
              for i in 0..<n {
                let item = source[i]
                let digit = Int((item >> shift) & 2047)
                target[counts[digit]] = item
                counts[digit] += 1
              }
              swap(&source, &target)
            }
            // Runs of equal keys are in index order; order each by exact distance, stably.
            var start = 0
            while start < n {
              let key = source[start] >> 32
              var end = start + 1
              while end < n && source[end] >> 32 == key { end += 1 }
              if end - start == 1 {
                order[start] = Int32(truncatingIfNeeded: source[start])
              } else {
                var run = (start..<end).map { Int(truncatingIfNeeded: source[$0] & 0xFFFF_FFFF) }
                run.sort { (distances[$0], $0) < (distances[$1], $1) }
                for (offset, index) in run.enumerated() { order[start + offset] = Int32(index) }
              }
              start = end
            }
          }
        }
      }
    }

    /// Adds Theorem 1's s of every training point, for one validation point, to `sums`.
    private func accumulate(
      order: UnsafeMutableBufferPointer<Int32>, label: Int,
      into sums: UnsafeMutableBufferPointer<Double>
    ) {
      let n = order.count
      trainingLabels.withUnsafeBufferPointer { labels in
        stepSizes.withUnsafeBufferPointer { steps in
          // The farthest point: s(α_N) = 1[match] / max(k, N) (Theorem 1 writes 1/N and
          // assumes N ≥ k; see implementation note 2 in KNNShapley.swift).
          var point = Int(order[n - 1])
          var farMatches = labels[point] == label
          var s = farMatches ? 1 / Double(max(k, n)) : 0
          sums[point] += s
          // From far to near: rank i (1-based) is order[i − 1].
          var rank = n - 1
          while rank >= 1 {
            point = Int(order[rank - 1])
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

  /// Buffers one block reuses for every row's sort.
  struct SortScratch {
    var items: [UInt64]
    var spare: [UInt64]
    var counts: [Int]

    init(count: Int) {
      items = [UInt64](repeating: 0, count: count)
      spare = items
      counts = [Int](repeating: 0, count: 2048)
    }
  }
}

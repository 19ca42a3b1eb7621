import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

// Prediction: decision values as GEMMs (or the exact 8-bit pixel GEMM), libsvm's one-vs-one
// vote, and pairwise coupling of Platt probabilities (Wu, Lin & Weng 2004).

extension SVMClassifier {
  /// Decision values of every pair, `[rows, pairs.count]`: `Σ y_i α_i K(x_i, x) − ρ`, computed
  /// as two GEMMs (kernel block, then the coefficient product).
  public func decisionValues(_ features: Matrix) -> Matrix {
    precondition(
      features.columns == featureCount,
      "features have \(features.columns) columns, the model \(featureCount)")
    guard features.rows > 0 else { return Matrix(rows: 0, columns: pairs.count) }
    let kernelBlock: Matrix
    if let pixelSupport, let queries = PixelCodes(features, columns: usedColumns) {
      kernelBlock = kernel.block(
        pixelDots: PixelCodes.dotProducts(queries, pixelSupport),
        aSquaredNorms: queries.squaredNorms, bSquaredNorms: pixelSupport.squaredNorms)
    } else if let usedColumns {
      let compact = Matrix(rows: features.rows, columns: usedColumns.count) {
        features[$0, usedColumns[$1]]
      }
      kernelBlock = kernel.block(
        compact, compactSupportVectors, aNorms: features.rowSquaredNorms(), bNorms: supportNorms)
    } else {
      kernelBlock = kernel.block(features, supportVectors, bNorms: supportNorms)
    }
    return decisionValues(kernelBlock: kernelBlock)
  }

  /// Decision values from the kernel between rows and support vectors, `[rows, supportCount]`.
  func decisionValues(kernelBlock: Matrix) -> Matrix {
    var values = Matrix.product(kernelBlock, dualCoefficients)
    for row in 0..<values.rows {
      for p in 0..<pairs.count { values[row, p] -= rho[p] }
    }
    return values
  }

  /// Decision values of a masked batch: the kernel needs only dot products and norms, which the
  /// batch gives from one pass over the support vectors plus a product of size groups ×
  /// supports (exact; ~25× fewer operations for LIME on a digit with 25 segments).
  public func decisionValues(_ batch: MaskedBatch) -> Matrix {
    let dots = batch.dotProducts(with: supportVectors)
    let norms = batch.rowSquaredNorms()
    var block = dots
    let columns = block.columns
    switch kernel {
    case .linear:
      break
    case let .polynomial(gamma, coef0, degree):
      for index in block.storage.indices {
        block.storage[index] = power(gamma * block.storage[index] + coef0, degree)
      }
    case let .rbf(gamma):
      for row in 0..<block.rows {
        for column in 0..<columns {
          let distance = max(norms[row] + supportNorms[column] - 2 * dots[row, column], 0)
          block[row, column] = exp(-gamma * distance)
        }
      }
    }
    return decisionValues(kernelBlock: block)
  }

  /// Probabilities of a masked batch (LIME's perturbed images), from `decisionValues(_:)` of
  /// the batch.
  public func predictProbabilities(_ batch: MaskedBatch) -> Matrix {
    probabilities(fromDecisionValues: decisionValues(batch))
  }

  /// True: kernel values come from dot products per segment, never from the images.
  public var scoresMaskedBatchesWithoutImages: Bool { true }

  /// libsvm's one-vs-one vote: each pair votes for its first class when its decision value is
  /// positive, else for its second; the class with most votes wins, ties to the lower index.
  public func predict(_ features: Matrix) -> [Int] {
    votes(fromDecisionValues: decisionValues(features))
  }

  /// `predictProbabilities` and `predict` together, from one evaluation of the kernel (which
  /// costs more than either step after it).
  public func predictProbabilitiesAndVotes(_ features: Matrix) -> (
    probabilities: Matrix, votes: [Int]
  ) {
    let values = decisionValues(features)
    return (probabilities(fromDecisionValues: values), votes(fromDecisionValues: values))
  }

  /// The one-vs-one vote winners from decision values `[rows, pairs]`.
  func votes(fromDecisionValues values: Matrix) -> [Int] {
    (0..<values.rows).map { row in
      var votes = [Int](repeating: 0, count: classNames.count)
      for (p, pair) in pairs.enumerated() {
        votes[values[row, p] > 0 ? pair.first : pair.second] += 1
      }
      var best = 0
      for c in 1..<votes.count where votes[c] > votes[best] { best = c }
      return best
    }
  }

  /// Probabilities from the pairwise Platt sigmoids and pairwise coupling (libsvm's
  /// `svm_predict_probability`, pairwise estimates clipped to [1e-7, 1 − 1e-7]). Without fitted
  /// sigmoids, the vote shares are returned.
  public func predictProbabilities(_ features: Matrix) -> Matrix {
    probabilities(fromDecisionValues: decisionValues(features))
  }

  /// Probabilities from decision values `[rows, pairs]`.
  func probabilities(fromDecisionValues values: Matrix) -> Matrix {
    let k = classNames.count
    var result = Matrix(rows: values.rows, columns: k)
    let presentClasses = Array(Set(pairs.flatMap { [$0.first, $0.second] })).sorted()
    guard hasProbabilities else {
      for row in 0..<values.rows {
        for (p, pair) in pairs.enumerated() {
          result[row, values[row, p] > 0 ? pair.first : pair.second] += 1 / Double(pairs.count)
        }
      }
      return result
    }
    var local = [Int](repeating: 0, count: k)
    for (position, c) in presentClasses.enumerated() { local[c] = position }
    let firsts = pairs.map { local[$0.first] }
    let seconds = pairs.map { local[$0.second] }
    let m = presentClasses.count
    let minimum = 1e-7
    // Rows `range` into `out` (`[range.count, m]`), with one set of work arrays.
    let coupleRows = { (range: Range<Int>, out: UnsafeMutablePointer<Double>) in
      var r = [Double](repeating: 0, count: m * m)
      var scratch = PairwiseCoupling.Scratch(classes: m)
      r.withUnsafeMutableBufferPointer { rBuffer in
        guard let r = rBuffer.baseAddress else { return }
        for (offset, row) in range.enumerated() {
          for p in pairs.indices {
            let probability = min(
              max(sigmoids[p].probability(values[row, p]), minimum), 1 - minimum)
            let (i, j) = (firsts[p], seconds[p])
            r[i * m + j] = probability
            r[j * m + i] = 1 - probability
          }
          let target = out + offset * m
          if m == 2 {
            target[0] = r[1]
            target[1] = r[2]
          } else {
            PairwiseCoupling.couple(r, into: target, scratch: &scratch)
          }
        }
      }
    }
    var coupled = [Double](repeating: 0, count: values.rows * m)
    coupled.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      // Coupling costs microseconds per row: spread it over cores only for large batches
      // (LIME's batches arrive from threads that are already running side by side).
      if values.rows >= 4096 {
        let chunks = contiguousChunks(of: values.rows, parts: Parallelism.threadCount * 4)
        let shared = UncheckedSendable(base)
        _ = parallelMap(chunks.count) { part in
          coupleRows(chunks[part], shared.value + chunks[part].lowerBound * m)
        }
      } else {
        coupleRows(0..<values.rows, base)
      }
    }
    for row in 0..<values.rows {
      for (position, c) in presentClasses.enumerated() {
        result[row, c] = coupled[row * m + position]
      }
    }
    return result
  }
}

import GlimpseCore

// Implementation notes
// 1. Match pyDVL 0.10's `KNNShapleyValuation` first (its values are what users compare with),
//    then speed. pyDVL walks each validation point's neighbours from far to near with
//    s ← s + (1[y_i = y] − 1[y_{i+1} = y]) / max(k, i), which is Theorem 1's
//    (1/k)·min(k, i)/i written as one division; we use the same expression so that rounding
//    agrees too, and average over validation points at the end as it does.
// 2. The recursion is exact for U(S) = (1/k)·Σ over the min(k, |S|) nearest points of S of
//    1[label match], averaged over validation points, with U(∅) = 0: a subset smaller than k is
//    divided by k, not by |S| (checked against enumeration in the tests). Theorem 1 assumes
//    N ≥ k: its start s(α_N) = 1[match]/N is the chance 1 − (N − k)/N = k/N that the farthest
//    point is among the k nearest of a random coalition, times 1/k. For k > N that chance is 1,
//    so we start from 1[match]/max(k, N); pyDVL keeps 1/N there, which breaks efficiency (the
//    values no longer sum to U(D)). For k ≤ N, the only case the paper covers, both agree.
// 3. Order: squared Euclidean distance ‖v‖² + ‖t‖² − 2 v·t, the cross terms one GEMM per block
//    of validation rows; equal distances put the lower training index first. Rows of 8-bit
//    pixels (k / 255) get exact integer distances from a float32 GEMM of their codes
//    (GlimpseCore's PixelCodes), so their ties are true ties; other rows use Double, clamped
//    at 0, where ties are decided on the computed distances. scikit-learn (which pyDVL calls
//    for the order) decides ties by its own rounding. Ties matter only between a point that
//    matches the validation label and one that does not; swapping such a pair at rank i moves
//    both values by 1/(i(i+1)M). On the anchors' 1000 × 500 split, 3 such exact ties make 6 of
//    1000 values differ from pyDVL's by at most 1.8e-8 (the other 994 agree to 1.2e-10); pyDVL's
//    own values with 1 and 2 joblib jobs differ at 2 points by 1.8e-8 for the same reason.
// 4. Speed: the GEMM dominates, so columns that are zero on one side are dropped from it, and
//    pixel rows run in float32 (exactly). Each row is then sorted by a radix sort on the top 32
//    bits of the distances' bit patterns (which order like the distances for values ≥ 0),
//    stable so that equal keys keep index order; runs of equal keys (distances agreeing to
//    ~1e-6) are re-sorted by (exact distance, index), so the final order is exactly
//    (distance, index). pyDVL's order comes from scikit-learn's `kneighbors(n_neighbors=N)`, a
//    heap per query, and its recursion is a Python loop.
// 5. Validation blocks are fixed by the sizes alone and summed in block order, so the values are
//    the same on any number of threads. Blocks run side by side with one BLAS thread each.

/// Exact Shapley values of the training points for an unweighted k-nearest-neighbour classifier.
///
/// The utility of a subset S of the training set is the k-NN "likelihood of the right label",
/// averaged over the validation points: for each validation point, the fraction of its k nearest
/// points in S (all of S when |S| < k, still divided by k) that carry its label; U(∅) = 0. Its
/// Shapley values have a closed form (Jia et al. 2019, Theorem 1): with the training points sorted
/// from nearest (α₁) to farthest (α_N) from validation point v,
///
///     s(α_N) = 1[y(α_N) = y_v] / N                                   (N ≥ k)
///     s(α_i) = s(α_{i+1}) + (1[y(α_i) = y_v] − 1[y(α_{i+1}) = y_v]) / k · min(k, i) / i
///
/// and a point's value is the mean of its s over the validation points. Values sum to U(D).
/// When k exceeds N the start is 1[y(α_N) = y_v] / k, which keeps the values exact (pyDVL
/// keeps 1/N, so its values differ there and no longer sum to U(D)).
///
/// Mirrors pyDVL 0.10's `KNNShapleyValuation(KNeighborsClassifier(n_neighbors=k), test_data)`
/// (values agree to 1e-9 on the fixture in `Tests/GlimpseValuationTests/Fixtures/`). Distances are
/// Euclidean on the feature rows, exact for 8-bit pixels (k / 255); among training points at
/// equal distance the lower index counts as nearer (scikit-learn leaves that order unspecified). Labels are matched by class name, so the
/// two datasets may list their classes differently; a validation class absent from training
/// matches no point.
///
/// ```swift
/// let result = try KNNShapley(k: 5).values(training: train, validation: valid)
/// let worst = result.ascendingOrder.prefix(10)   // likely mislabelled points
/// ```
///
/// Jia, Dao, Wang, Hubis, Gürel, Li, Zhang, Spanos, Song, "Efficient Task-Specific Data Valuation
/// for Nearest Neighbor Algorithms", PVLDB 12(11), 2019, doi:10.14778/3342263.3342637, Theorem 1.
public struct KNNShapley: Sendable, Equatable {
  /// Number of neighbours (scikit-learn's `n_neighbors`, ≥ 1). It may exceed the training size.
  public var k: Int

  /// - Parameter k: Number of neighbours; pyDVL's anchor uses scikit-learn's default 5.
  public init(k: Int = 5) { self.k = k }

  /// Distances held per block of validation rows (8 MB); a block has at least one row.
  static let blockDistances = 1 << 20

  /// Validation rows per block: at most 128, fewer when training is large. Each block's GEMM
  /// packs the whole training matrix again, so blocks should not be small; the size depends on
  /// the data alone, never on the thread count (see note 5).
  static func blockRows(trainingCount: Int) -> Int {
    max(1, min(128, blockDistances / max(trainingCount, 1)))
  }

  /// Computes every training point's value.
  ///
  /// - Parameters:
  ///   - training: The points to value, `[N, features]`.
  ///   - validation: The points the utility is measured on, `[M, features]`.
  ///   - progress: Called on the calling thread with the fraction of validation points done
  ///     (0 < f ≤ 1), after each group of blocks.
  /// - Returns: Method `knn`, status `.exact`, one value per training point, standard errors 0,
  ///   `M` samples per point.
  /// - Throws: `KNNShapleyError` for k < 1, an empty validation set, rows of different widths,
  ///   or a feature that is not finite.
  /// - Complexity: O(M·N·features) for the distances (BLAS), O(M·N log N) for the sorts.
  ///   Blocks of validation rows run on `Parallelism.threadCount` threads; while they run,
  ///   OpenBLAS is set to one thread (process-wide) and restored afterwards.
  public func values(
    training: Dataset, validation: Dataset, progress: (Double) -> Void = { _ in }
  ) throws(KNNShapleyError) -> ValuationResult {
    guard k >= 1 else { throw .invalidK(k) }
    guard validation.count > 0 else { throw .emptyValidation }
    guard training.featureCount == validation.featureCount else {
      throw .featureCountMismatch(
        training: training.featureCount, validation: validation.featureCount)
    }
    if let row = Self.firstNonFiniteRow(training.features) {
      throw .nonFiniteFeature(set: "training", row: row)
    }
    if let row = Self.firstNonFiniteRow(validation.features) {
      throw .nonFiniteFeature(set: "validation", row: row)
    }
    let n = training.count
    precondition(n < Int(Int32.max), "KNN-Shapley indexes training points with 32 bits (got \(n))")
    guard n > 0 else { return .exact(method: "knn", values: [], samplesPerPoint: validation.count) }

    // Validation labels as training class indices (−1: a class training does not have).
    let classIndex = Dictionary(
      training.classNames.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    let validationLabels = validation.labels.map { classIndex[validation.classNames[$0]] ?? -1 }

    let kernel = Kernel(
      k: k, training: training.features, trainingLabels: training.labels,
      validation: validation.features, validationLabels: validationLabels)
    let rowsPerBlock = Self.blockRows(trainingCount: n)
    let blocks = contiguousBlocks(validation.count, size: rowsPerBlock)
    let workers = min(Parallelism.threadCount, blocks.count)
    let groupSize = 2 * workers

    var totals = [Double](repeating: 0, count: n)
    // Each worker runs GEMMs of its own: OpenBLAS at 1 thread while they run side by side.
    withSingleThreadedBLAS(if: workers > 1) {
      var done = 0
      for groupStart in stride(from: 0, to: blocks.count, by: groupSize) {
        let group = Array(blocks[groupStart..<min(groupStart + groupSize, blocks.count)])
        let sums = parallelMap(group.count) { index in kernel.blockSums(rows: group[index]) }
        // Block order, whatever thread finished first: the same sums on any core count.
        for blockSums in sums {
          for point in 0..<n { totals[point] += blockSums[point] }
        }
        done += group.reduce(0) { $0 + $1.count }
        progress(Double(done) / Double(validation.count))
      }
    }
    let validationCount = Double(validation.count)
    return .exact(
      method: "knn", values: totals.map { $0 / validationCount }, samplesPerPoint: validation.count)
  }

  /// The first row holding a NaN or an infinity, if any.
  static func firstNonFiniteRow(_ matrix: Matrix) -> Int? {
    guard matrix.columns > 0 else { return nil }
    return matrix.storage.withUnsafeBufferPointer { values in
      for (index, value) in values.enumerated() where !value.isFinite {
        return index / matrix.columns
      }
      return nil
    }
  }
}

/// `0..<count` cut into consecutive ranges of `size` (the last one shorter).
private func contiguousBlocks(_ count: Int, size: Int) -> [Range<Int>] {
  stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
}

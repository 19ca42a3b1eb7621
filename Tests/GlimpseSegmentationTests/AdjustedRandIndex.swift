/// The adjusted Rand index of two labelings of the same pixels: 1 for identical partitions
/// (whatever the label values), about 0 for independent ones.
///
/// ARI = (Σ_ij C(n_ij, 2) − E) / (½ (Σ_i C(a_i, 2) + Σ_j C(b_j, 2)) − E), with
/// E = Σ_i C(a_i, 2) · Σ_j C(b_j, 2) / C(n, 2), from the contingency table n_ij and its margins
/// a_i, b_j. When both partitions are trivial in the same way (the denominator is 0) it is 1,
/// as scikit-learn's `adjusted_rand_score` returns.
///
/// Hubert & Arabie, "Comparing Partitions", Journal of Classification 2(1), 1985,
/// doi:10.1007/BF01908075, eq. (5).
func adjustedRandIndex(_ a: [Int], _ b: [Int]) -> Double {
  precondition(a.count == b.count, "labelings differ in length: \(a.count) != \(b.count)")
  let n = a.count
  guard n > 1 else { return 1 }
  func pairs(_ m: Int) -> Double { Double(m) * Double(m - 1) / 2 }
  var table: [Int: Int] = [:]
  var rows: [Int: Int] = [:]
  var columns: [Int: Int] = [:]
  for (x, y) in zip(a, b) {
    // Labels are non-negative and small in practice; pack both into one key.
    table[x &* 1_000_003 &+ y, default: 0] += 1
    rows[x, default: 0] += 1
    columns[y, default: 0] += 1
  }
  let index = table.values.reduce(0) { $0 + pairs($1) }
  let rowPairs = rows.values.reduce(0) { $0 + pairs($1) }
  let columnPairs = columns.values.reduce(0) { $0 + pairs($1) }
  let expected = rowPairs * columnPairs / pairs(n)
  let maximum = (rowPairs + columnPairs) / 2
  if maximum == expected { return 1 }
  return (index - expected) / (maximum - expected)
}

/// Number of distinct labels.
func segmentCount(_ labels: [Int]) -> Int { Set(labels).count }

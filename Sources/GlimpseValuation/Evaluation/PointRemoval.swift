import GlimpseCore

/// Point-removal curves (Ghorbani & Zou 2019, Fig. 2): the validation score of a model retrained
/// after removing a growing fraction of the training points, lowest-valued first, highest-valued
/// first, or at random. Removing harmful points first should raise the score; removing the most
/// valuable first should drop it faster than random.
public struct PointRemovalCurves: Sendable, Equatable, Codable {
  /// Fractions of the training set removed (0 first).
  public var fractions: [Double]
  /// The score after removing each fraction, lowest-valued points first.
  public var lowestFirst: [Double]
  /// The score after removing each fraction, highest-valued points first.
  public var highestFirst: [Double]
  /// The score after removing each fraction in a seeded random order (the baseline).
  public var random: [Double]

  /// - Parameters:
  ///   - values: One value per training point of `utility`.
  ///   - fractions: Fractions removed, each in [0, 1).
  ///   - seed: For the random order.
  public static func compute(
    _ utility: some Utility, values: [Double], fractions: [Double], seed: UInt64 = 0
  ) -> PointRemovalCurves {
    let n = values.count
    let ascending = values.indices.sorted {
      values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1)
    }
    let descending = values.indices.sorted {
      values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1)
    }
    var rng = SeededGenerator(seed: seed)
    let shuffled = Array(0..<n).shuffled(using: &rng)
    let orders = [ascending, descending, shuffled]
    let jobs = orders.flatMap { order in fractions.map { (order, $0) } }
    let scores = parallelMap(jobs.count) { job in
      let (order, fraction) = jobs[job]
      let removed = Int((fraction * Double(n)).rounded())
      return utility.value(of: Array(order[removed...]).sorted())
    }
    let m = fractions.count
    return PointRemovalCurves(
      fractions: fractions, lowestFirst: Array(scores[0..<m]),
      highestFirst: Array(scores[m..<(2 * m)]),
      random: Array(scores[(2 * m)...]))
  }
}

/// Why a valuation stopped.
public enum ValuationStatus: String, Sendable, Codable, Equatable {
  /// Computed exactly (enumeration, leave-one-out, KNN-Shapley's recursion).
  case exact
  /// A convergence rule (standard error, rank stability) was met.
  case converged
  /// The sample budget ran out first.
  case budgetExhausted = "budget"
  /// The wall-clock limit ran out first.
  case timeLimit = "time"
  /// Stopped from outside (a shard finished its part, or the caller cancelled).
  case interrupted
}

/// The value of every training point, with its uncertainty.
///
/// `values[i]` is training point `i`'s value; `standardErrors[i]` the standard error of a Monte
/// Carlo estimate (0 for exact methods, infinite below two samples); `sampleCounts[i]` the number
/// of samples (marginal contributions or subsets) behind it.
public struct ValuationResult: Sendable, Equatable, Codable {
  /// The method, as on the command line (`tmc`, `loo`, `knn`, `classwise`, `banzhaf`, `exact`).
  public var method: String
  /// One value per training point.
  public var values: [Double]
  /// The standard error of each value (0 for exact methods, infinite below two samples).
  public var standardErrors: [Double]
  /// The samples behind each value.
  public var sampleCounts: [Int]
  /// Why the valuation stopped.
  public var status: ValuationStatus
  /// Samples drawn in all (permutations, subsets, or utility evaluations for exact methods).
  public var totalSamples: Int

  /// A result of `method` with one value, standard error and count per point.
  public init(
    method: String, values: [Double], standardErrors: [Double], sampleCounts: [Int],
    status: ValuationStatus, totalSamples: Int
  ) {
    precondition(
      standardErrors.count == values.count && sampleCounts.count == values.count,
      "values, standard errors and sample counts must have one entry per point")
    self.method = method
    self.values = values
    self.standardErrors = standardErrors
    self.sampleCounts = sampleCounts
    self.status = status
    self.totalSamples = totalSamples
  }

  /// An exact result: standard errors 0, `samplesPerPoint` samples each.
  public static func exact(method: String, values: [Double], samplesPerPoint: Int) -> Self {
    ValuationResult(
      method: method, values: values, standardErrors: Array(repeating: 0, count: values.count),
      sampleCounts: Array(repeating: samplesPerPoint, count: values.count), status: .exact,
      totalSamples: samplesPerPoint)
  }

  /// A Monte Carlo result read off an accumulator.
  public init(
    method: String, accumulator: MarginalAccumulator, status: ValuationStatus, totalSamples: Int
  ) {
    self.init(
      method: method, values: accumulator.values, standardErrors: accumulator.standardErrors,
      sampleCounts: accumulator.counts, status: status, totalSamples: totalSamples)
  }

  /// The number of training points.
  public var count: Int { values.count }

  /// Point indices from lowest to highest value; ties keep index order (a stable sort).
  public var ascendingOrder: [Int] {
    values.indices.sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
  }
}

/// Which training points a cleaning keeps: those valued at or above a threshold.
///
/// What `glimpse clean` drops before retraining; with threshold 0 it drops the points whose
/// presence lowers the utility on average (negative values), the check of Ghorbani & Zou 2019,
/// §4 ("removing low-value data").
public struct ValueThreshold: Sendable, Equatable {
  /// Points valued below this are dropped.
  public var threshold: Double

  /// A threshold; 0 drops the points that hurt.
  public init(_ threshold: Double = 0) { self.threshold = threshold }

  /// The points kept, in index order.
  public func kept(_ values: [Double]) -> [Int] {
    values.indices.filter { values[$0] >= threshold }
  }

  /// The points dropped, lowest value first (ties by index).
  public func dropped(_ values: [Double]) -> [Int] {
    values.indices.filter { values[$0] < threshold }
      .sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
  }
}

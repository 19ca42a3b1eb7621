import GlimpseCore

/// One sample's contribution to one point: `value` goes to `point`'s running mean on `channel`.
public struct SampleUpdate: Sendable, Equatable {
  /// The training point the update belongs to.
  public var point: Int
  /// The sample (a marginal contribution, or a utility for Banzhaf).
  public var value: Double
  /// The accumulator channel (Banzhaf: 0 with the point in the subset, 1 without).
  public var channel: Int

  /// An update of `point` by `value` on `channel`.
  public init(point: Int, value: Double, channel: Int = 0) {
    self.point = point
    self.value = value
    self.channel = channel
  }
}

/// Everything a Monte Carlo valuation has done so far: enough to resume it after a kill, or to
/// merge it with other shards of the same job.
public struct MonteCarloState: Sendable, Equatable, Codable {
  /// Identifies the job (method, data, model, seed); resuming or merging checks it.
  public var fingerprint: String
  /// The running sums of every point's samples.
  public var accumulator: MarginalAccumulator
  /// Sample indices whose updates are in `accumulator`.
  public var completed: SampleIndexSet
  /// Seconds of work so far, over every run of this state.
  public var elapsedSeconds: Double
  /// Why the last run stopped (`nil` while running).
  public var status: ValuationStatus?
  /// Training labels, for methods whose values depend on them after sampling (class-wise
  /// normalisation).
  public var labels: [Int]?

  enum CodingKeys: String, CodingKey {
    case fingerprint, accumulator, completed, elapsedSeconds, status, labels
  }

  /// Read back checked against itself: no point has more samples on a channel than samples
  /// were done (each sample adds at most one per point and channel), the elapsed time is a
  /// finite number ≥ 0, and the labels are one per point.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    fingerprint = try container.decode(String.self, forKey: .fingerprint)
    accumulator = try container.decode(MarginalAccumulator.self, forKey: .accumulator)
    completed = try container.decode(SampleIndexSet.self, forKey: .completed)
    elapsedSeconds = try container.decode(Double.self, forKey: .elapsedSeconds)
    status = try container.decodeIfPresent(ValuationStatus.self, forKey: .status)
    labels = try container.decodeIfPresent([Int].self, forKey: .labels)
    func refuse(_ key: CodingKeys, _ why: String) -> DecodingError {
      .dataCorrupted(.init(codingPath: decoder.codingPath + [key], debugDescription: why))
    }
    let done = completed.count
    for (channel, sums) in accumulator.channels.enumerated() {
      if let point = sums.counts.firstIndex(where: { $0 > done }) {
        throw refuse(
          .accumulator,
          "point \(point) has \(sums.counts[point]) samples on channel \(channel), but only \(done) samples are done"
        )
      }
    }
    guard elapsedSeconds.isFinite, elapsedSeconds >= 0 else {
      throw refuse(.elapsedSeconds, "\(elapsedSeconds) is not a number of seconds ≥ 0")
    }
    if let labels {
      guard labels.count == accumulator.pointCount else {
        throw refuse(.labels, "\(labels.count) labels for \(accumulator.pointCount) points")
      }
      guard labels.allSatisfy({ $0 >= 0 }) else { throw refuse(.labels, "a label is negative") }
    }
  }

  /// Checks that this state can continue a job on `pointCount` points with `channelCount`
  /// channels (a checkpoint of the same fingerprint can still have been edited).
  /// - Throws: `ValuationError.mismatchedStates` naming what differs.
  public func check(pointCount: Int, channelCount: Int) throws(ValuationError) {
    guard accumulator.pointCount == pointCount, accumulator.channels.count == channelCount else {
      throw .mismatchedStates(
        "the state holds \(accumulator.pointCount) points on \(accumulator.channels.count) channels, the job has \(pointCount) on \(channelCount)"
      )
    }
  }

  /// A fresh state of a job: no sample done, no time spent.
  public init(fingerprint: String, pointCount: Int, channelCount: Int) {
    self.fingerprint = fingerprint
    accumulator = MarginalAccumulator(pointCount: pointCount, channelCount: channelCount)
    completed = SampleIndexSet()
    elapsedSeconds = 0
    status = nil
  }

  /// Adds another shard's work. Both must come from the same job and hold disjoint samples.
  public mutating func merge(_ other: MonteCarloState) throws(ValuationError) {
    guard other.fingerprint == fingerprint else {
      throw .mismatchedStates("fingerprints differ: \(fingerprint) and \(other.fingerprint)")
    }
    guard completed.isDisjoint(with: other.completed) else {
      throw .mismatchedStates("the two states share samples (the same shard twice?)")
    }
    guard other.accumulator.channels.count == accumulator.channels.count,
      other.accumulator.pointCount == accumulator.pointCount
    else {
      throw .mismatchedStates(
        "\(accumulator.pointCount) points on \(accumulator.channels.count) channels and \(other.accumulator.pointCount) on \(other.accumulator.channels.count)"
      )
    }
    guard accumulator.canMerge(other.accumulator) else {
      // Shapes agree (checked above): only the sums can be out of range.
      throw .mismatchedStates("the sums are too large to add exactly")
    }
    accumulator.merge(other.accumulator)
    completed.formUnion(other.completed)
    elapsedSeconds = max(elapsedSeconds, other.elapsedSeconds)
    status = Self.combined(status, other.status)
  }

  /// The weaker of two statuses: a merge converged only if every part did.
  static func combined(_ a: ValuationStatus?, _ b: ValuationStatus?) -> ValuationStatus? {
    guard let a, let b else { return a ?? b }
    let order: [ValuationStatus] = [.interrupted, .timeLimit, .budgetExhausted, .converged, .exact]
    return order.first { $0 == a || $0 == b }
  }
}

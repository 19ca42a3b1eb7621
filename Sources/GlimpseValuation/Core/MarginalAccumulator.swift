/// Running sums of the samples each training point receives, on one or two channels.
///
/// Permutation and leave-one-out methods feed channel 0 with marginal contributions; Banzhaf's
/// maximum-sample-reuse estimator feeds channel 0 with U(S) for subsets that hold the point and
/// channel 1 with U(S) for those that do not (Wang & Jia 2023, eq. 6). Sums are
/// `FixedPointSum`s, so the final values do not depend on the order samples arrive in, and
/// accumulators of disjoint sample sets merge exactly.
public struct MarginalAccumulator: Sendable, Equatable, Codable {
  /// The running sums of one channel: per point, the count, sum and sum of squares of its
  /// samples.
  public struct Channel: Sendable, Equatable, Codable {
    /// Samples per point.
    public var counts: [Int]
    /// The sum of each point's samples.
    public var sums: [FixedPointSum]
    /// The sum of the squares of each point's samples (for variances).
    public var sumsOfSquares: [FixedPointSum]

    init(pointCount: Int) {
      counts = Array(repeating: 0, count: pointCount)
      sums = Array(repeating: FixedPointSum(), count: pointCount)
      sumsOfSquares = Array(repeating: FixedPointSum(), count: pointCount)
    }

    enum CodingKeys: String, CodingKey { case counts, sums, sumsOfSquares }

    /// Read back checked: three arrays of one length, counts in `0...SampleIndexSet.maximumIndex`.
    public init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      counts = try container.decode([Int].self, forKey: .counts)
      sums = try container.decode([FixedPointSum].self, forKey: .sums)
      sumsOfSquares = try container.decode([FixedPointSum].self, forKey: .sumsOfSquares)
      guard sums.count == counts.count, sumsOfSquares.count == counts.count else {
        throw DecodingError.dataCorrupted(
          .init(
            codingPath: decoder.codingPath,
            debugDescription:
              "\(counts.count) counts, \(sums.count) sums and \(sumsOfSquares.count) sums of squares (one each per point)"
          ))
      }
      if let point = counts.firstIndex(where: { !(0...SampleIndexSet.maximumIndex).contains($0) }) {
        throw DecodingError.dataCorrupted(
          .init(
            codingPath: decoder.codingPath + [CodingKeys.counts],
            debugDescription: "point \(point) has a sample count of \(counts[point])"))
      }
    }

    /// Whether `merge(other)` keeps every count and sum in range.
    func canMerge(_ other: Channel) -> Bool {
      counts.indices.allSatisfy { point in
        !counts[point].addingReportingOverflow(other.counts[point]).overflow
          && sums[point].canAdd(other.sums[point])
          && sumsOfSquares[point].canAdd(other.sumsOfSquares[point])
      }
    }

    mutating func add(_ sample: Double, to point: Int) {
      counts[point] += 1
      sums[point].add(sample)
      sumsOfSquares[point].add(sample * sample)
    }

    mutating func merge(_ other: Channel) {
      for point in counts.indices {
        counts[point] += other.counts[point]
        sums[point].add(other.sums[point])
        sumsOfSquares[point].add(other.sumsOfSquares[point])
      }
    }

    /// The mean of point `i`'s samples (0 when it has none).
    public func mean(_ point: Int) -> Double {
      counts[point] == 0 ? 0 : sums[point].value / Double(counts[point])
    }

    /// The unbiased sample variance of point `i`'s samples (`nil` below two samples).
    public func variance(_ point: Int) -> Double? {
      let n = Double(counts[point])
      guard n >= 2 else { return nil }
      let mean = sums[point].value / n
      return max(0, (sumsOfSquares[point].value - n * mean * mean) / (n - 1))
    }
  }

  /// One channel, or two for maximum sample reuse.
  public private(set) var channels: [Channel]

  /// - Parameters:
  ///   - pointCount: The number of training points.
  ///   - channelCount: 1 for marginal-contribution methods, 2 for maximum sample reuse.
  public init(pointCount: Int, channelCount: Int = 1) {
    channels = Array(repeating: Channel(pointCount: pointCount), count: channelCount)
  }

  /// The number of training points.
  public var pointCount: Int { channels[0].counts.count }

  enum CodingKeys: String, CodingKey { case channels }

  /// Read back checked: one or two channels, all of one point count.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    channels = try container.decode([Channel].self, forKey: .channels)
    func refuse(_ why: String) -> DecodingError {
      .dataCorrupted(
        .init(codingPath: decoder.codingPath + [CodingKeys.channels], debugDescription: why))
    }
    guard (1...2).contains(channels.count) else {
      throw refuse("\(channels.count) channels, expected 1 or 2")
    }
    guard channels.allSatisfy({ $0.counts.count == channels[0].counts.count }) else {
      throw refuse("the channels hold different numbers of points")
    }
  }

  /// Whether `merge(other)` is possible: the same shape, and sums that stay in range.
  public func canMerge(_ other: MarginalAccumulator) -> Bool {
    other.channels.count == channels.count && other.pointCount == pointCount
      && zip(channels, other.channels).allSatisfy { $0.canMerge($1) }
  }

  /// Adds one sample of `point` on `channel`.
  public mutating func add(_ sample: Double, to point: Int, channel: Int = 0) {
    channels[channel].add(sample, to: point)
  }

  /// Adds every sample of `other` (which must have the same shape).
  public mutating func merge(_ other: MarginalAccumulator) {
    precondition(
      other.channels.count == channels.count && other.pointCount == pointCount,
      "merging accumulators of different shapes")
    for channel in channels.indices { channels[channel].merge(other.channels[channel]) }
  }

  /// Values: channel 0's means, or with two channels the difference of the two means.
  public var values: [Double] {
    (0..<pointCount).map { point in
      channels.count == 1
        ? channels[0].mean(point) : channels[0].mean(point) - channels[1].mean(point)
    }
  }

  /// Standard errors of `values`: √(s²/n), summed in quadrature over channels; infinite while
  /// a channel has fewer than two samples for the point.
  public var standardErrors: [Double] {
    (0..<pointCount).map { point in
      var squared = 0.0
      for channel in channels {
        guard let variance = channel.variance(point) else { return .infinity }
        squared += variance / Double(channel.counts[point])
      }
      return squared.squareRoot()
    }
  }

  /// Samples per point (over all channels).
  public var counts: [Int] {
    (0..<pointCount).map { point in channels.reduce(0) { $0 + $1.counts[point] } }
  }
}

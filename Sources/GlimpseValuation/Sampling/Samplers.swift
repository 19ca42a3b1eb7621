import GlimpseCore

/// Uniformly random permutations of the players, one per sample index.
///
/// Sample `j` draws from the seed's stream `j` (`SeededGenerator.stream`), so a permutation
/// depends only on the seed and its index: never on the thread, the shard, or a resume.
public struct PermutationSampler: Sendable, Equatable {
  public let seed: UInt64

  public init(seed: UInt64) { self.seed = seed }

  /// Permutation number `sample` of `players` (Fisher–Yates).
  public func permutation(_ sample: Int, of players: [Int]) -> [Int] {
    var rng = SeededGenerator(seed: seed).stream(UInt64(sample))
    return players.shuffled(using: &rng)
  }
}

/// Subsets drawn uniformly from the power set (each player in with probability ½), one per
/// sample index: the sampler of maximum sample reuse (Wang & Jia 2023, Alg. 1).
public struct UniformSubsetSampler: Sendable, Equatable {
  public let seed: UInt64

  public init(seed: UInt64) { self.seed = seed }

  /// Membership of each of `count` players in subset number `sample`.
  public func membership(_ sample: Int, count: Int) -> [Bool] {
    var rng = SeededGenerator(seed: seed).stream(UInt64(sample))
    var mask = [Bool](repeating: false, count: count)
    var bits: UInt64 = 0
    for player in 0..<count {
      if player % 64 == 0 { bits = rng.next() }
      mask[player] = bits & 1 == 1
      bits >>= 1
    }
    return mask
  }
}

/// Which part of a job's sample indices a process computes: sample `j` belongs to shard
/// `j mod count`. Shards' results merge to exactly the single-process result (sums are
/// order-independent, see `FixedPointSum`).
public struct Shard: Sendable, Equatable, Codable {
  public let index: Int
  public let count: Int

  public static let whole = Shard(index: 0, count: 1)

  public init(index: Int, count: Int) {
    precondition(count >= 1 && index >= 0 && index < count, "shard \(index)/\(count) is out of range")
    self.index = index
    self.count = count
  }

  public func owns(_ sample: Int) -> Bool { sample % count == index }

  /// The number of indices below `limit` this shard owns.
  public func ownedCount(below limit: Int) -> Int {
    limit <= index ? 0 : (limit - index - 1) / count + 1
  }
}

/// A set of sample indices kept as sorted, disjoint, non-adjacent half-open ranges.
public struct SampleIndexSet: Sendable, Equatable, Codable {
  public private(set) var ranges: [Range<Int>] = []

  public init() {}

  public var count: Int { ranges.reduce(0) { $0 + $1.count } }

  public func contains(_ index: Int) -> Bool {
    var low = 0, high = ranges.count
    while low < high {
      let mid = (low + high) / 2
      if ranges[mid].upperBound <= index { low = mid + 1 } else { high = mid }
    }
    return low < ranges.count && ranges[low].contains(index)
  }

  public mutating func insert(_ index: Int) {
    var low = 0, high = ranges.count
    while low < high {
      let mid = (low + high) / 2
      if ranges[mid].upperBound < index { low = mid + 1 } else { high = mid }
    }
    // `low` is the first range ending at or after `index`.
    if low < ranges.count && ranges[low].contains(index) { return }
    let joinsLeft = low < ranges.count && ranges[low].upperBound == index
    let joinsRight: Bool = {
      let right = joinsLeft ? low + 1 : low
      return right < ranges.count && ranges[right].lowerBound == index + 1
    }()
    switch (joinsLeft, joinsRight) {
    case (true, true):
      ranges[low] = ranges[low].lowerBound..<ranges[low + 1].upperBound
      ranges.remove(at: low + 1)
    case (true, false):
      ranges[low] = ranges[low].lowerBound..<(index + 1)
    case (false, true):
      ranges[low] = index..<ranges[low].upperBound
    case (false, false):
      ranges.insert(index..<(index + 1), at: low)
    }
  }

  public mutating func formUnion(_ other: SampleIndexSet) {
    for range in other.ranges { for index in range { insert(index) } }
  }

  public func isDisjoint(with other: SampleIndexSet) -> Bool {
    other.ranges.allSatisfy { range in range.allSatisfy { !contains($0) } }
  }

  enum CodingKeys: String, CodingKey { case ranges }

  /// Stored as `[[start, end], …]`.
  public init(from decoder: any Decoder) throws {
    let pairs = try decoder.container(keyedBy: CodingKeys.self).decode([[Int]].self, forKey: .ranges)
    for pair in pairs {
      guard pair.count == 2, pair[0] <= pair[1] else {
        throw DecodingError.dataCorrupted(
          .init(codingPath: decoder.codingPath, debugDescription: "a range is two ascending integers"))
      }
      for index in pair[0]..<pair[1] { insert(index) }
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(ranges.map { [$0.lowerBound, $0.upperBound] }, forKey: .ranges)
  }
}

import GlimpseCore

/// Uniformly random permutations of the players, one per sample index.
///
/// Sample `j` draws from the seed's stream `j` (`SeededGenerator.stream`), so a permutation
/// depends only on the seed and its index: never on the thread, the shard, or a resume.
public struct PermutationSampler: Sendable, Equatable {
  /// The job's seed; permutation `j` uses its stream `j`.
  public let seed: UInt64

  /// A sampler whose permutations are drawn from `seed`'s streams.
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
  /// The job's seed; subset `j` uses its stream `j`.
  public let seed: UInt64

  /// A sampler whose subsets are drawn from `seed`'s streams.
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
  /// This shard's index, `0..<count`.
  public let index: Int
  /// The number of shards the job is split into.
  public let count: Int

  /// The whole job in one process.
  public static let whole = Shard(index: 0, count: 1)

  /// The most shards a job may have (2²⁰): a merge lists the shards it misses, and a checkpoint
  /// must not make that list unbounded.
  public static let maximumCount = 1 << 20

  /// Shard `index` of `count` (0 ≤ index < count).
  public init(index: Int, count: Int) {
    precondition(
      count >= 1 && index >= 0 && index < count, "shard \(index)/\(count) is out of range")
    self.index = index
    self.count = count
  }

  /// Whether sample `sample` belongs to this shard.
  public func owns(_ sample: Int) -> Bool { sample % count == index }

  /// The number of indices below `limit` this shard owns.
  public func ownedCount(below limit: Int) -> Int {
    limit <= index ? 0 : (limit - index - 1) / count + 1
  }

  /// The smallest index ≥ `start` (≥ 0) this shard owns.
  public func firstOwned(from start: Int) -> Int {
    start + (index - start % count + count) % count
  }

  enum CodingKeys: String, CodingKey { case index, count }

  /// Read back with the initialiser's checks (a synthesised decoder would skip them, and a
  /// count of 0 would trap in `owns`), as a decoding error.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let index = try container.decode(Int.self, forKey: .index)
    let count = try container.decode(Int.self, forKey: .count)
    guard count >= 1, count <= Self.maximumCount, index >= 0, index < count else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription:
            "shard \(index)/\(count) is out of range (0 ≤ index < count ≤ \(Self.maximumCount))"))
    }
    self.init(index: index, count: count)
  }
}

/// A set of sample indices kept as sorted, disjoint, non-adjacent half-open ranges.
///
/// Every operation works on whole ranges, never index by index: a checkpoint can hold ranges of
/// any length (`maximumIndex` bounds them), and resuming, merging or decoding one must not take
/// time in proportion to the indices it covers.
public struct SampleIndexSet: Sendable, Equatable, Codable {
  /// The indices, as sorted, disjoint, non-adjacent half-open ranges.
  public private(set) var ranges: [Range<Int>] = []

  /// Indices must lie below this (2⁴⁸, far beyond any run): counts and the runner's next index
  /// then never overflow.
  public static let maximumIndex = 1 << 48

  /// The empty set.
  public init() {}

  /// The number of indices in the set.
  public var count: Int { ranges.reduce(0) { $0 + $1.count } }

  /// The position of the first range ending after `index`.
  private func firstRange(endingAfter index: Int) -> Int {
    var low = 0
    var high = ranges.count
    while low < high {
      let mid = (low + high) / 2
      if ranges[mid].upperBound <= index { low = mid + 1 } else { high = mid }
    }
    return low
  }

  /// Whether `index` is in the set.
  public func contains(_ index: Int) -> Bool {
    range(containing: index) != nil
  }

  /// The stored range that holds `index`, if any.
  public func range(containing index: Int) -> Range<Int>? {
    let low = firstRange(endingAfter: index)
    return low < ranges.count && ranges[low].contains(index) ? ranges[low] : nil
  }

  /// Adds `index`, joining the ranges it touches.
  public mutating func insert(_ index: Int) {
    var low = 0
    var high = ranges.count
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

  /// Adds every index of `other`: one merge of the two sorted range lists.
  public mutating func formUnion(_ other: SampleIndexSet) {
    var merged: [Range<Int>] = []
    merged.reserveCapacity(ranges.count + other.ranges.count)
    var (i, j) = (0, 0)
    while i < ranges.count || j < other.ranges.count {
      let next: Range<Int>
      let takeOwn =
        j == other.ranges.count
        || (i < ranges.count && ranges[i].lowerBound <= other.ranges[j].lowerBound)
      if takeOwn {
        next = ranges[i]
        i += 1
      } else {
        next = other.ranges[j]
        j += 1
      }
      if let last = merged.last, next.lowerBound <= last.upperBound {
        merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, next.upperBound)
      } else {
        merged.append(next)
      }
    }
    ranges = merged
  }

  /// Whether no index is in both sets: one walk over the two sorted range lists.
  public func isDisjoint(with other: SampleIndexSet) -> Bool {
    var (i, j) = (0, 0)
    while i < ranges.count && j < other.ranges.count {
      if ranges[i].overlaps(other.ranges[j]) { return false }
      if ranges[i].upperBound <= other.ranges[j].upperBound { i += 1 } else { j += 1 }
    }
    return true
  }

  enum CodingKeys: String, CodingKey { case ranges }

  /// Stored as `[[start, end], …]`, ascending and disjoint, every index in
  /// `0..<maximumIndex`; ranges that touch are joined.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let pairs = try container.decode([[Int]].self, forKey: .ranges)
    func refuse(_ why: String) -> DecodingError {
      DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: why))
    }
    for (position, pair) in pairs.enumerated() {
      guard pair.count == 2, pair[0] <= pair[1] else {
        throw refuse("range \(position) is not two ascending integers [start, end]")
      }
      if pair[0] == pair[1] { continue }
      guard pair[0] >= 0, pair[1] <= Self.maximumIndex else {
        throw refuse(
          "range \(position) [\(pair[0]), \(pair[1])] is outside 0...\(Self.maximumIndex)")
      }
      if let last = ranges.last {
        guard pair[0] >= last.upperBound else {
          throw refuse(
            "range \(position) [\(pair[0]), \(pair[1])] is out of order or overlaps the one before")
        }
        if pair[0] == last.upperBound {
          ranges[ranges.count - 1] = last.lowerBound..<pair[1]
          continue
        }
      }
      ranges.append(pair[0]..<pair[1])
    }
  }

  /// Stored as `[[lower, upper], …]` pairs.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(ranges.map { [$0.lowerBound, $0.upperBound] }, forKey: .ranges)
  }
}

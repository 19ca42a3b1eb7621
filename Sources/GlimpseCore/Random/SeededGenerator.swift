/// A fast, seedable random number generator: xoshiro256** seeded through SplitMix64.
///
/// All randomness in Glimpse goes through one of these, created from an explicit seed, so that a
/// run can be repeated bit for bit. `stream(_:)` derives an independent generator for a unit of
/// work (a permutation, a shard, an image), so parallel and resumed runs give the same numbers
/// as one sequential run.
///
/// Blackman & Vigna, "Scrambled Linear Pseudorandom Number Generators", ACM TOMS 47(4), 2021
/// (xoshiro256**); Steele, Lea & Flood, "Fast Splittable Pseudorandom Number Generators",
/// OOPSLA 2014 (SplitMix64, used to expand a 64-bit seed into the 256-bit state).
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
  private var state: (UInt64, UInt64, UInt64, UInt64)
  /// The seed this generator was created from.
  public let seed: UInt64

  /// Creates a generator whose state is four successive SplitMix64 outputs from `seed`.
  public init(seed: UInt64) {
    self.seed = seed
    var mixer = SplitMix64(state: seed)
    state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
  }

  /// Creates a generator with the given 256-bit state (for the algorithm's published test
  /// vectors); `stream(_:)` of such a generator derives from seed 0.
  public init(state: (UInt64, UInt64, UInt64, UInt64)) {
    precondition(state != (0, 0, 0, 0), "xoshiro256** state must not be all zero")
    self.seed = 0
    self.state = state
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotateLeft(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotateLeft(state.3, 45)
    return result
  }

  /// An independent generator for unit of work `index`, determined by `(seed, index)` alone.
  ///
  /// The stream seed is the SplitMix64 mix of the seed and the index, so streams of nearby
  /// indices share no visible structure.
  public func stream(_ index: UInt64) -> SeededGenerator {
    var mixer = SplitMix64(state: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
    _ = mixer.next()
    return SeededGenerator(seed: mixer.next())
  }

  /// A uniform `Double` in [0, 1) with 53 random bits.
  public mutating func nextUnitDouble() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// Two generators are equal when they have the same seed and state (they will draw the same
  /// numbers).
  public static func == (lhs: SeededGenerator, rhs: SeededGenerator) -> Bool {
    lhs.seed == rhs.seed && lhs.state.0 == rhs.state.0 && lhs.state.1 == rhs.state.1
      && lhs.state.2 == rhs.state.2 && lhs.state.3 == rhs.state.3
  }

  @inline(__always)
  private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state advanced by the golden-ratio increment
/// and passed through a bijective finaliser; used to seed `SeededGenerator`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  /// The current state.
  public var state: UInt64

  /// Creates a generator whose first output mixes `state + 0x9E3779B97F4A7C15`.
  public init(state: UInt64) { self.state = state }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// A sum of `Double`s that does not depend on the order of its terms.
///
/// Each term is rounded to a multiple of 2⁻⁶⁴ and added as an `Int128`, so addition is exact,
/// associative and commutative. This is what lets permutations finish in any order on any number
/// of threads, and shards of a job (`--shard k/n`) merge, to bit-identical values. Terms keep
/// full `Double` precision down to magnitude 2⁻¹¹; smaller ones keep an absolute precision of
/// 2⁻⁶⁵, far below any utility difference that matters. Magnitudes must stay below 2⁶².
public struct FixedPointSum: Sendable, Equatable, Hashable {
  /// The sum in units of 2⁻⁶⁴.
  public private(set) var raw: Int128

  /// The empty sum, 0.
  public init() { raw = 0 }

  /// A sum of `raw` units of 2⁻⁶⁴ (as stored in checkpoints).
  public init(raw: Int128) { self.raw = raw }

  /// Adds `term`, rounded to the nearest multiple of 2⁻⁶⁴.
  public mutating func add(_ term: Double) {
    precondition(term.isFinite, "FixedPointSum only holds finite terms (got \(term))")
    raw += Int128((term * 0x1p64).rounded())
  }

  /// Adds another sum exactly.
  public mutating func add(_ other: FixedPointSum) { raw += other.raw }

  /// Whether `add(other)` stays within `Int128` (sums read from files may be near its ends).
  public func canAdd(_ other: FixedPointSum) -> Bool {
    !raw.addingReportingOverflow(other.raw).overflow
  }

  /// The largest magnitude a stored sum may have, 2¹²⁰ units (a value of 2⁵⁶): far beyond any
  /// real sum, and far enough from `Int128`'s ends that adding terms to a sum read from a
  /// checkpoint cannot overflow.
  public static let maximumStoredRaw: Int128 = 1 << 120

  /// The sum as a `Double` (correctly rounded).
  public var value: Double { Double(raw) * 0x1p-64 }
}

extension FixedPointSum: Codable {
  /// Stored as a decimal string: JSON numbers cannot carry 128 bits. A stored magnitude above
  /// `maximumStoredRaw` is refused.
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let raw = Int128(text), raw.magnitude <= Self.maximumStoredRaw.magnitude else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "not an integer of magnitude at most 2^120: \(text.prefix(60))"))
    }
    self.raw = raw
  }

  /// Stored as a decimal string (JSON numbers cannot carry 128 bits).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(String(raw))
  }
}

/// A set of rows whose decoded images are identical, sample for sample.
public struct ExactDuplicateGroup: Sendable, Equatable {
  /// The rows, ascending (at least two).
  public var rows: [Int]
  /// Whether the rows carry more than one label.
  public var labelConflict: Bool

  /// A group of identical rows.
  public init(rows: [Int], labelConflict: Bool) {
    self.rows = rows
    self.labelConflict = labelConflict
  }
}

extension AuditImages {
  /// Groups of rows with identical decoded pixels: the same shape and the same 8-bit samples.
  ///
  /// The images are compared after decoding, so a PNG and a lossless re-encoding of it match
  /// while a JPEG copy (whose decoded samples differ) does not; `nearDuplicates` finds those.
  /// Rows are bucketed by a hash of shape and samples and confirmed equal sample by sample
  /// (dictionary keys compare in full), so a hash collision cannot join two different images.
  ///
  /// - Returns: Groups ordered by their first row.
  public func exactDuplicates() -> [ExactDuplicateGroup] {
    struct Key: Hashable {
      var shape: [Int]
      var samples: [UInt8]
    }
    var groups = [Key: [Int]]()
    for row in 0..<count {
      let shape = shapes[row]
      groups[
        Key(shape: [shape.height, shape.width, shape.channels], samples: samples[row]),
        default: []
      ].append(row)
    }
    return groups.values.filter { $0.count > 1 }
      .map { rows in
        ExactDuplicateGroup(rows: rows, labelConflict: Set(rows.map { labels[$0] }).count > 1)
      }
      .sorted { $0.rows[0] < $1.rows[0] }
  }

  /// Pairs of rows, one from DATA and one from the test set, that are duplicates: every
  /// (data, test) pair inside an exact group, then every near-duplicate pair that straddles
  /// the two sets; as `[dataRow, testRow]` in the audit's global row numbering, without repeats.
  public func leaks(exact: [ExactDuplicateGroup], near: [NearDuplicatePair]) -> [[Int]] {
    var seen = Set<[Int]>()
    var result = [[Int]]()
    for group in exact {
      for i in group.rows where !isTest(i) {
        for j in group.rows where isTest(j) && seen.insert([i, j]).inserted {
          result.append([i, j])
        }
      }
    }
    for pair in near where isTest(pair.first) != isTest(pair.second) {
      let leak = [min(pair.first, pair.second), max(pair.first, pair.second)]
      if seen.insert(leak).inserted { result.append(leak) }
    }
    return result
  }
}

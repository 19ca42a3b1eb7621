import GlimpseCore

// Implementation notes
// 1. Why: a model file's CRC only proves the bytes were not damaged in transit. A file whose
//    fields were edited and its CRC recomputed must still never trap, hang or allocate without
//    bound, so every number read from it is checked against the others and against the arrays
//    present before it sizes, indexes or loops over anything.
// 2. Array lengths are bounded by the file (`ModelArchive(decoding:)` checks them against the
//    bytes), so a product of a length and a header field is the one place that can overflow:
//    `product(_:_:for:)` checks it.

extension ModelArchive {
  /// The class names, which a classifier needs at least two of.
  func classCount() throws(ModelError) -> Int {
    guard classNames.count >= 2 else {
      throw .corruptModelFile(
        "field 'classNames' lists \(classNames.count) class\(classNames.count == 1 ? "" : "es"), a model needs at least 2"
      )
    }
    return classNames.count
  }

  /// `a × b`, the expected length of array `name`, refused when it overflows.
  static func product(_ a: Int, _ b: Int, for name: String) throws(ModelError) -> Int {
    let (result, overflow) = a.multipliedReportingOverflow(by: b)
    guard !overflow, result >= 0 else {
      throw .corruptModelFile("array '\(name)' would need \(a) × \(b) values")
    }
    return result
  }

  /// The named double array with `count` elements when given, every one finite.
  func finiteDoubles(_ name: String, count: Int? = nil) throws(ModelError) -> [Double] {
    let values = try doubles(name, count: count)
    if let index = values.firstIndex(where: { !$0.isFinite }) {
      throw .corruptModelFile(
        "array '\(name)' holds \(values[index]) at \(index), expected finite numbers")
    }
    return values
  }

  /// The named integer array with `count` elements when given, every one in `range`.
  func integers(_ name: String, count: Int? = nil, in range: Range<Int>) throws(ModelError) -> [Int]
  {
    let values = try integers(name, count: count)
    if let index = values.firstIndex(where: { !range.contains($0) }) {
      throw .corruptModelFile(
        "array '\(name)' holds \(values[index]) at \(index), expected \(range.lowerBound)..<\(range.upperBound)"
      )
    }
    return values
  }

  /// The named scalar, which must be finite.
  func finiteScalar(_ name: String) throws(ModelError) -> Double {
    let value = try scalar(name)
    guard value.isFinite else {
      throw .corruptModelFile("scalar '\(name)' is \(value), expected a finite number")
    }
    return value
  }

  /// The named scalar as an integer in `range` (scalars are stored as doubles).
  func integerScalar(_ name: String, in range: ClosedRange<Int>) throws(ModelError) -> Int {
    let value = try scalar(name)
    // The range check on the double comes first: it keeps `Int(_:)` from trapping.
    guard value >= Double(range.lowerBound), value <= Double(range.upperBound),
      value.rounded() == value
    else {
      throw .corruptModelFile(
        "scalar '\(name)' is \(value), expected an integer in \(range.lowerBound)...\(range.upperBound)"
      )
    }
    return Int(value)
  }

  /// The hyperparameters decoded as `type` and checked by `validate`, whose complaint is reported
  /// as a damaged file (the file, not the user, chose them).
  func hyperparameters<H: Decodable>(
    as type: H.Type, validate: (H) throws(ModelError) -> Void
  ) throws(ModelError) -> H {
    let value = try hyperparameters(as: type)
    do {
      try validate(value)
    } catch {
      if case .invalidHyperparameter = error {
        throw .corruptModelFile("hyperparameter \(error.description)")
      }
      throw error
    }
    return value
  }
}

/// A number with a fixed count of decimals (Foundation-free `String(format:)`), for any Double.
///
/// Values read from files reach this (the value range of `glimpse info`; an explanation's
/// agreement, from a model file's weights), so it must not trap: non-finite values print as
/// Swift spells them (`nan`, `inf`, `-inf`), and values whose scaled magnitude leaves the range
/// where a Double holds every integer exactly (2^53, far inside Int's range) print in Swift's
/// shortest form (`1e+300`) instead of going through `Int`.
public func formatFixed(_ value: Double, digits: Int) -> String {
  guard value.isFinite else { return String(value) }
  let digits = min(max(digits, 0), 15)
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let rounded = (abs(value) * scale).rounded()
  guard rounded < 9_007_199_254_740_992 else { return String(value) }
  // Integer arithmetic from here: `rounded` is exact, and a division in Doubles could round
  // up to the next integer and leave a negative fraction.
  let total = Int(rounded)
  let unit = Int(scale)
  let integer = total / unit
  let fraction = total % unit
  let sign = value < 0 && rounded != 0 ? "-" : ""
  guard digits > 0 else { return "\(sign)\(integer)" }
  let fractionText = String(fraction)
  return
    "\(sign)\(integer).\(String(repeating: "0", count: digits - fractionText.count))\(fractionText)"
}

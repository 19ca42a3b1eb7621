extension Substring {
  /// The text without its leading and trailing characters that are in `set` (e.g. `" \t\r"`),
  /// as a `String`: how a field of a line-based file or protocol answer is read.
  public func trimming(_ set: String) -> String {
    let characters = Set(set)
    var slice = self[...]
    while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
    while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
    return String(slice)
  }
}

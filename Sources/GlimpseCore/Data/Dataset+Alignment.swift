extension Dataset {
  /// The same rows with labels re-indexed into `classNames` (a test set read on its own may list
  /// its classes in another order than the model or training set it is compared with).
  ///
  /// - Throws: `DatasetAlignmentError.unknownClass` for the first row whose class is not in
  ///   `classNames`.
  public func aligned(to classNames: [String]) throws(DatasetAlignmentError) -> Dataset {
    guard classNames != self.classNames else { return self }
    // Model files refuse repeated class names; the first would win here.
    let index = Dictionary(classNames.enumerated().map { ($1, $0) }) { first, _ in first }
    var mapped: [Int] = []
    mapped.reserveCapacity(count)
    for label in labels {
      guard let target = index[self.classNames[label]] else {
        throw .unknownClass(className: self.classNames[label], knownClasses: classNames)
      }
      mapped.append(target)
    }
    return relabelled(mapped, classNames: classNames)
  }
}

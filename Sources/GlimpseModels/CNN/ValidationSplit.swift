import GlimpseCore

/// A stratified split of training rows into the rows trained on and the rows held out to
/// choose the epoch to keep.
///
/// Each class's rows are shuffled by `rng` (classes in order) and its first
/// `round(fraction · n_c)` go to validation, at most `n_c − 1` so that every class keeps a
/// training row: class proportions are the same on both sides up to rounding, as in
/// scikit-learn's `train_test_split(stratify=y)` (which rounds the total instead of each
/// class).
public struct ValidationSplit: Sendable, Equatable {
  /// Rows trained on, ascending.
  public var training: [Int]
  /// Rows held out, ascending.
  public var validation: [Int]

  /// Splits rows `0..<labels.count` by their labels.
  /// - Parameters:
  ///   - labels: The class of each row.
  ///   - fraction: The share of each class held out, in [0, 1).
  public init(labels: [Int], fraction: Double, using rng: inout some RandomNumberGenerator) {
    precondition(fraction >= 0 && fraction < 1, "validation fraction \(fraction) not in [0, 1)")
    var byClass: [Int: [Int]] = [:]
    for (row, label) in labels.enumerated() { byClass[label, default: []].append(row) }
    var held: [Int] = []
    for label in byClass.keys.sorted() {
      let rows = byClass[label, default: []].shuffled(using: &rng)
      let count = min(Int((fraction * Double(rows.count)).rounded()), rows.count - 1)
      held += rows.prefix(max(count, 0))
    }
    let heldSet = Set(held)
    training = (0..<labels.count).filter { !heldSet.contains($0) }
    validation = held.sorted()
  }
}

import GlimpseCore

/// How two annotators' labels of the same items agree: the cross-tabulation, the observed
/// agreement, Cohen's kappa unweighted and weighted, and the items they disagree on.
///
/// Rows of `crosstab` are annotator A's grades, columns annotator B's, both in the order of
/// `classes` (the declared grade scale). A grade on the scale that neither annotator used stays
/// in the matrix as a zero row and column, as scikit-learn's `confusion_matrix(labels=…)` keeps
/// it; it changes nothing for the unweighted kappa, but the weighted kappas measure distances by
/// position on the scale, so an unused middle grade still counts as a step.
public struct AnnotatorAgreement: Sendable, Equatable {
  /// Cohen's kappa under the three weightings scikit-learn's `cohen_kappa_score` offers.
  public struct Kappa: Sendable, Equatable {
    /// Every disagreement weighs 1 (`weights=None`).
    public var unweighted: Double
    /// A disagreement weighs its distance on the scale, `|i − j|` (`weights="linear"`).
    public var linear: Double
    /// A disagreement weighs its squared distance, `(i − j)²` (`weights="quadratic"`).
    public var quadratic: Double

    /// The three kappas.
    public init(unweighted: Double, linear: Double, quadratic: Double) {
      self.unweighted = unweighted
      self.linear = linear
      self.quadratic = quadratic
    }
  }

  /// The grade scale, in order: rows and columns of `crosstab`.
  public var classes: [String]
  /// `crosstab[a][b]`: items graded `classes[a]` by A and `classes[b]` by B.
  public var crosstab: [[Int]]
  /// The fraction of compared items with the same grade from both annotators.
  public var agreement: Double
  /// Cohen's kappa (nil when undefined: every compared item in one grade for both).
  public var kappa: Kappa?
  /// Items (indices into the given label lists) graded differently by A and B.
  public var disagreements: [Int]
  /// Items whose two grades lie two or more steps apart on the scale.
  public var disagreementsTwoPlus: [Int]
  /// Items left out because A's or B's label is missing.
  public var droppedMissing: [Int]

  /// The number of items compared (both labels present).
  public var comparedCount: Int { crosstab.reduce(0) { $0 + $1.reduce(0, +) } }

  /// Compares two annotators' labels of the same items.
  ///
  /// - Parameters:
  ///   - first: Annotator A's label of each item; nil (or an empty string) for missing.
  ///   - second: Annotator B's label of each item, aligned with `first`.
  ///   - grades: The declared scale, in order; nil for the sorted union of the labels used
  ///     (numerically when every label is a number, else by text).
  /// - Throws: `AuditError` when the lists differ in length, the scale repeats a grade, a label
  ///   is not on the declared scale, or no item has both labels.
  public init(first: [String?], second: [String?], grades: [String]? = nil) throws(AuditError) {
    guard first.count == second.count else {
      throw AuditError(
        "annotator A labels \(first.count) items, annotator B \(second.count); they must match")
    }
    func present(_ label: String?) -> String? {
      guard let label, !label.allSatisfy({ $0 == " " || $0 == "\t" }) else { return nil }
      return label
    }
    let a = first.map(present)
    let b = second.map(present)
    let scale = grades ?? Self.sortedGrades(Set(a.compactMap { $0 } + b.compactMap { $0 }))
    var position = [String: Int]()
    for (index, grade) in scale.enumerated() {
      guard position[grade] == nil else {
        throw AuditError("grade '\(quoted(grade))' appears twice on the scale")
      }
      position[grade] = index
    }
    var table = [[Int]](repeating: [Int](repeating: 0, count: scale.count), count: scale.count)
    var dropped = [Int]()
    var differ = [Int]()
    var differTwo = [Int]()
    for item in a.indices {
      guard let labelA = a[item], let labelB = b[item] else {
        dropped.append(item)
        continue
      }
      guard let row = position[labelA] else {
        throw AuditError(
          "annotator A's label '\(quoted(labelA))' of item \(item) is not on the grade scale")
      }
      guard let column = position[labelB] else {
        throw AuditError(
          "annotator B's label '\(quoted(labelB))' of item \(item) is not on the grade scale")
      }
      table[row][column] += 1
      if row != column { differ.append(item) }
      if abs(row - column) >= 2 { differTwo.append(item) }
    }
    let compared = a.count - dropped.count
    guard compared > 0 else { throw AuditError("no item has labels from both annotators") }
    classes = scale
    crosstab = table
    agreement = Double(compared - differ.count) / Double(compared)
    disagreements = differ
    disagreementsTwoPlus = differTwo
    droppedMissing = dropped
    if let unweighted = Self.cohenKappa(table, weight: { $0 == $1 ? 0 : 1 }),
      let linear = Self.cohenKappa(table, weight: { Double(abs($0 - $1)) }),
      let quadratic = Self.cohenKappa(table, weight: { Double(($0 - $1) * ($0 - $1)) })
    {
      kappa = Kappa(unweighted: unweighted, linear: linear, quadratic: quadratic)
    } else {
      kappa = nil
    }
  }

  /// Cohen's kappa of a cross-tabulation under a disagreement weight `w(i, j)` (Cohen 1968,
  /// "Weighted kappa", Psychological Bulletin 70(4), eq. 4): `κ = 1 − Σ w·O / Σ w·E`, where `O`
  /// is the observed table and `E = rowsums ⊗ colsums / n` the table expected by chance. This
  /// is scikit-learn's `cohen_kappa_score`; nil where it is undefined (`Σ w·E = 0`).
  public static func cohenKappa(_ table: [[Int]], weight: (Int, Int) -> Double) -> Double? {
    let k = table.count
    let rowSums = table.map { Double($0.reduce(0, +)) }
    let columnSums = (0..<k).map { j in Double(table.reduce(0) { $0 + $1[j] }) }
    let total = rowSums.reduce(0, +)
    guard total > 0 else { return nil }
    var observed = 0.0
    var expected = 0.0
    for i in 0..<k {
      for j in 0..<k {
        let w = weight(i, j)
        observed += w * Double(table[i][j])
        expected += w * rowSums[i] * columnSums[j] / total
      }
    }
    guard expected != 0 else { return nil }
    return 1 - observed / expected
  }

  /// Grades in order: numerically when every one is a number (so `10` follows `9`), else by text.
  public static func sortedGrades(_ grades: Set<String>) -> [String] {
    let numbers = grades.map { Double($0) }
    if numbers.allSatisfy({ $0 != nil }) {
      return grades.sorted { (Double($0)!, $0) < (Double($1)!, $1) }
    }
    return grades.sorted()
  }
}

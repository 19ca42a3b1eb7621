import GlimpseAudit
import GlimpseCore
import GlimpseTestSupport
import Testing

// swift-format-ignore: AlwaysUseLowerCamelCase
/// Fixtures/label_issues.json (cleanlab 2.9 on numpy 1.26; see make_label_issue_fixtures.py).
struct LabelIssueReference: Decodable {
  struct Case: Decodable {
    struct Options: Decodable {
      var frac_noise: Double?
      var num_to_remove_per_class: [Int]?
      var min_examples_per_class: Int?
    }
    var filter_by: String
    var options: Options
    var issues: [Int]
  }
  var labels: [Int]
  var flipped: [Int]
  var thresholds: [Double]
  var confident_joint_raw: [[Int]]
  var confident_joint: [[Int]]
  var cases: [Case]
  var ranked: [Int]
  var boundary_ties: Bool
}

@Suite struct LabelIssueTests {
  static let folder = TestPaths.fixtures("GlimpseAuditTests")

  static func load() throws -> (LabelIssueReference, ClassProbabilities) {
    let reference = try loadJSON(
      LabelIssueReference.self, from: folder + "/label_issues.json")
    let probabilities = try ClassProbabilities.readPredictions(
      folder + "/label_issues_probs.csv.gz", rows: reference.labels.count)
    return (reference, probabilities)
  }

  @Test(
    "1000 anchor digits, 10 % flipped: thresholds, raw and calibrated confident joint equal cleanlab 2.9's compute_confident_joint"
  )
  func confidentJointMatchesCleanlab() throws {
    let (reference, probabilities) = try Self.load()
    #expect(probabilities.classes == (0..<10).map { "\($0)" })
    let joint = ConfidentJoint(labels: reference.labels, probabilities: probabilities)
    #expect(joint.counts == reference.confident_joint_raw)
    #expect(joint.calibrated == reference.confident_joint)
    for (ours, theirs) in zip(joint.thresholds, reference.thresholds) {
      #expect(abs(ours - theirs) <= 1e-15)
    }
    // The calibration's defining property: rows sum to the given-label counts.
    for (k, row) in joint.calibrated.enumerated() {
      #expect(row.reduce(0, +) == reference.labels.count { $0 == k })
    }
  }

  @Test(
    "every filter and option variant flags exactly cleanlab 2.9's find_label_issues mask on the 1000 digits"
  )
  func masksMatchCleanlab() throws {
    let (reference, probabilities) = try Self.load()
    #expect(!reference.boundary_ties, "the fixture has no tie at a cut, so masks must agree")
    #expect(reference.cases.count == 11)
    for item in reference.cases {
      var learning = ConfidentLearning()
      learning.filter = try #require(LabelIssueFilter(rawValue: item.filter_by))
      if let fraction = item.options.frac_noise { learning.fractionOfNoise = fraction }
      learning.removePerClass = item.options.num_to_remove_per_class
      if let minimum = item.options.min_examples_per_class { learning.minimumPerClass = minimum }
      let issues = try learning.findIssues(labels: reference.labels, probabilities: probabilities)
      let flagged = issues.mask.indices.filter { issues.mask[$0] }
      #expect(flagged == item.issues, "\(item.filter_by) \(item.options)")
    }
  }

  @Test(
    "issues ranked by self-confidence as cleanlab.rank.order_label_issues (tied scores ordered by row)"
  )
  func rankingMatchesCleanlab() throws {
    let (reference, probabilities) = try Self.load()
    let issues = try ConfidentLearning().findIssues(
      labels: reference.labels, probabilities: probabilities)
    #expect(Set(issues.ranked) == Set(reference.ranked))
    // numpy's argsort is unstable: compare with cleanlab's order after sorting tied runs by row.
    let score = issues.selfConfidence
    let canonical = reference.ranked.sorted { (score[$0], $0) < (score[$1], $1) }
    #expect(issues.ranked == canonical)
    #expect(zip(canonical, reference.ranked).allSatisfy { score[$0] == score[$1] })
    // 207 flagged, 88 of them flipped: cleanlab's figures on this split (RESULTS.md).
    #expect(issues.ranked.count == 207)
    #expect(Set(issues.ranked).intersection(reference.flipped).count == 88)
  }

  @Test("a tie between two classes counts for the first; a class nobody carries never confides")
  func handMadeTiesAndEmptyClass() throws {
    // Classes a, b, c; nobody is labelled c. Row 2 reaches both thresholds of a and b with equal
    // probability: argmax picks a, the first.
    let probabilities = ClassProbabilities(
      classes: ["a", "b", "c"],
      values: [
        0.9, 0.1, 0.0,
        0.8, 0.2, 0.0,
        0.5, 0.5, 0.0,
        0.1, 0.9, 0.0,
        0.3, 0.7, 0.0,
        0.6, 0.4, 0.0,
      ])
    let labels = [0, 0, 1, 1, 1, 1]
    let joint = ConfidentJoint(labels: labels, probabilities: probabilities)
    // Thresholds: a = (0.9 + 0.8) / 2 = 0.85; b = (0.5 + 0.9 + 0.7 + 0.4) / 4 = 0.625; c = 2.
    #expect(abs(joint.thresholds[0] - 0.85) < 1e-15)
    #expect(abs(joint.thresholds[1] - 0.625) < 1e-15)
    #expect(joint.thresholds[2] == 2)
    // Row 0 confides a; row 1 (0.8 < 0.85) none; row 2 none (0.5 < 0.85, 0.5 < 0.625);
    // rows 3, 4 confide b; row 5 none. The empty class's diagonal is raised to 1.
    #expect(joint.counts == [[1, 0, 0], [0, 2, 0], [0, 0, 1]])
    #expect(joint.calibrated == [[2, 0, 0], [0, 4, 0], [0, 0, 0]])
    // predicted_neq_given: row 5 (labelled b, a more probable). Row 2's tie: a is argmax,
    // but b is within 1e-6 of the top, so cleanlab's reduction clears it.
    var learning = ConfidentLearning()
    learning.filter = .predictedNeqGiven
    let issues = try learning.findIssues(labels: labels, probabilities: probabilities)
    #expect(issues.ranked == [5])
  }

  @Test("a class with one row is never pruned (cleanlab writes back masks of two rows or more)")
  func oneRowClass() throws {
    let probabilities = ClassProbabilities(
      classes: ["a", "b"], values: [0.9, 0.1, 0.8, 0.2, 0.95, 0.05, 0.99, 0.01])
    // Row 3 is the only b and the model is sure it is an a.
    let labels = [0, 0, 0, 1]
    for filter in [LabelIssueFilter.pruneByNoiseRate, .pruneByClass, .both] {
      var learning = ConfidentLearning()
      learning.filter = filter
      let issues = try learning.findIssues(labels: labels, probabilities: probabilities)
      #expect(issues.ranked.isEmpty, "\(filter)")
    }
    var learning = ConfidentLearning()
    learning.filter = .predictedNeqGiven
    #expect(try learning.findIssues(labels: labels, probabilities: probabilities).ranked == [3])
  }

  @Test(
    "round_preserving_sum: halves round to even, then the furthest-rounded move to keep the sum")
  func roundingPreservesSum() {
    let joint = ConfidentJoint(
      labels: [0, 0, 0, 1, 1, 1, 1],
      probabilities: ClassProbabilities(
        classes: ["a", "b"],
        values: [0.9, 0.1, 0.6, 0.4, 0.2, 0.8, 0.1, 0.9, 0.2, 0.8, 0.7, 0.3, 0.5, 0.5]))
    for (k, row) in joint.calibrated.enumerated() {
      #expect(row.reduce(0, +) == [3, 4][k])
    }
  }

  @Test("stratified folds: each class split evenly, same seed same folds")
  func stratifiedFolds() {
    let labels = (0..<103).map { $0 % 3 }
    let folds = OutOfFold.folds(labels: labels, count: 5, seed: 7)
    #expect(folds == OutOfFold.folds(labels: labels, count: 5, seed: 7))
    #expect(folds != OutOfFold.folds(labels: labels, count: 5, seed: 8))
    for label in 0..<3 {
      let sizes = (0..<5).map { f in labels.indices.count { labels[$0] == label && folds[$0] == f }
      }
      #expect(sizes.max()! - sizes.min()! <= 1)
    }
  }

  @Test("a predict CSV with the wrong row count or a non-probability fails with file and line")
  func badPredictionFiles() throws {
    let path = makeTemporaryDirectory("label-issues") + "/probs.csv"
    try writeFile("row,source,p_a,p_b,predicted\n0,x.png,0.5,0.5,a\n1,y.png,1.7,0.1,a\n", to: path)
    #expect(throws: FileContentError.self) { try ClassProbabilities.readPredictions(path, rows: 3) }
    do {
      _ = try ClassProbabilities.readPredictions(path, rows: 2)
      Issue.record("accepted 1.7 as a probability")
    } catch let error as FileContentError {
      #expect(error.description.contains(":3:"))
    }
  }
}

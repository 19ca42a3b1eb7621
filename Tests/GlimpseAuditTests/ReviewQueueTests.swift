import GlimpseAudit
import GlimpseTestSupport
import Testing

@Suite struct ReviewQueueTests {
  @Test(
    "reciprocal rank fusion: a row low in both rankings leads; each signal adds 1/(60 + rank)")
  func fusion() {
    // Four rows of classes a/b. Row 1: lowest self-confidence and lowest value.
    let probabilities = ClassProbabilities(
      classes: ["a", "b"], values: [0.9, 0.1, 0.1, 0.9, 0.6, 0.4, 0.8, 0.2])
    let labels = ["a", "a", "a", "b"]
    let issues = LabelIssues(
      filter: .pruneByNoiseRate, mask: [false, true, false, false], ranked: [1],
      selfConfidence: [0.9, 0.1, 0.6, 0.2],
      joint: ConfidentJoint(labels: [0, 0, 0, 1], probabilities: probabilities))
    let queue = ReviewQueue(
      labels: labels, issues: (issues, probabilities), values: [0.5, -0.2, 0.1, 0.05], exact: [],
      near: [], leaks: [], limit: 10)
    #expect(queue.items.map(\.row) == [1, 3, 2, 0])
    let first = queue.items[0]
    #expect(abs(first.score - 2 / 61) < 1e-15)
    #expect(first.suggested == "b")
    #expect(first.reasons.contains("label issue (rank 1)"))
    #expect(first.reasons.contains { $0.hasPrefix("low value (-0.2") })
    // Row 3 (given b, p_b = 0.2): self-confidence rank 2, value rank 2.
    #expect(abs(queue.items[1].score - 2.0 / 62) < 1e-15)
    #expect(queue.signals == ["self-confidence", "data value"])
  }

  @Test(
    "conflicting duplicates and annotator disagreements rank; same-label duplicates only explain")
  func duplicatesAndDisagreements() {
    let labels = ["a", "b", "a", "a", "b"]
    let queue = ReviewQueue(
      labels: labels, issues: nil, values: nil,
      exact: [ExactDuplicateGroup(rows: [0, 1], labelConflict: true)],
      near: [NearDuplicatePair(first: 2, second: 3, distance: 0.01)], leaks: [],
      disagreements: [4: "a"], limit: 10)
    #expect(Set(queue.items.map(\.row)) == [0, 1, 4])
    #expect(queue.items.first { $0.row == 0 }?.suggested == "b")
    #expect(queue.items.first { $0.row == 4 }?.reasons == ["annotator B says a"])
  }
}

import GlimpseAudit
import GlimpseCore
import GlimpseReport
import Testing

@Suite struct AuditReportTests {
  static func results() throws -> AuditResults {
    let shape = ImageShape(height: 2, width: 2)
    let images = AuditImages(
      shapes: Array(repeating: shape, count: 4),
      samples: [[0, 50, 100, 150], [0, 50, 100, 150], [9, 200, 3, 40], [255, 0, 0, 255]],
      labels: ["a", "b", "a", "b"], sources: ["x.png", "y.png", "z.png", "<w>.png"], dataCount: 4)
    return try AuditResults.run(
      images: images, dataPath: "<data>.csv", testPath: nil,
      labelsB: (labels: ["a", "a", nil, "b"], path: "b.csv"), grades: nil)
  }

  @Test("report.json keeps its snake_case schema and decodes to the same report")
  func schemaRoundTrip() throws {
    let report = try Self.results().report(glimpseVersion: "test")
    let bytes = try report.encoded()
    let text = String(decoding: bytes, as: UTF8.self)
    for key in [
      "\"exact_duplicates\":[[0,1]]", "\"exact_duplicate_conflicts\":[[0,1]]",
      "\"near_duplicates\":[]", "\"leaks\":[]", "\"disagreements_2plus\":[]",
      "\"dropped_missing\":[2]", "\"sources\":[\"x.png\"", "\"kappa\":{",
      "\"schema_version\":1",
    ] {
      #expect(text.contains(key), "\(key)")
    }
    #expect(try AuditReport.decoded(bytes) == report)
  }

  @Test("the page escapes file names and shows the annotators' cross-tab")
  func page() throws {
    let files = try Self.results().files(glimpseVersion: "test")
    let page = try #require(files.first { $0.name == "index.html" })
    let html = String(decoding: page.bytes, as: UTF8.self)
    #expect(html.contains("<code>&lt;data&gt;.csv</code>"))
    #expect(!html.contains("<data>"))
    #expect(html.contains("A \\ B"))
    #expect(html.contains("Cohen's kappa"))
    #expect(files.contains { $0.name == "exact_duplicates.png" })
    #expect(files.contains { $0.name == "crosstab.png" })
  }

  @Test(
    "label issues and the review queue reach report.json (label_issues, review_queue, skipped) and the page"
  )
  func labelIssuesInReport() throws {
    let shape = ImageShape(height: 2, width: 2)
    let images = AuditImages(
      shapes: Array(repeating: shape, count: 4),
      samples: [[0, 50, 100, 150], [10, 60, 10, 150], [9, 200, 3, 40], [255, 0, 0, 255]],
      labels: ["a", "a", "b", "b"], sources: ["w.png", "x.png", "y.png", "z.png"], dataCount: 4)
    var learning = ConfidentLearning()
    learning.filter = .predictedNeqGiven
    let probabilities = ClassProbabilities(
      classes: ["a", "b"], values: [0.9, 0.1, 0.2, 0.8, 0.1, 0.9, 0.3, 0.7])
    var results = try AuditResults.run(
      images: images, dataPath: "d", testPath: nil, labelsB: nil, grades: nil,
      labelIssues: AuditResults.LabelIssueInput(
        probabilities: probabilities, origin: "p.csv", learning: learning))
    results.skipped = [(path: "bad.png", reason: "truncated file")]
    let text = String(decoding: try results.report(glimpseVersion: "t").encoded(), as: UTF8.self)
    for key in [
      "\"label_issues\":{", "\"filter_by\":\"predicted_neq_given\"", "\"indices\":[1]",
      "\"confident_joint\":[[", "\"review_queue\":{", "\"skipped\":[{\"path\":\"bad.png\"",
    ] {
      #expect(text.contains(key), "\(key)")
    }
    let page = try #require(
      try results.files(glimpseVersion: "t").first { $0.name == "index.html" })
    let html = String(decoding: page.bytes, as: UTF8.self)
    #expect(html.contains("Skipped files") && html.contains("bad.png"))
    #expect(html.contains("Review queue") && html.contains("Label issues (confident learning)"))
  }
}

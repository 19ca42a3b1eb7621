import GlimpseAudit
import GlimpseCore

/// Everything `glimpse audit` finds, before it becomes files: run with `AuditResults.run`,
/// then turned into `report.json` (`report`), figures (`figures`) and a page (`AuditPage`).
public struct AuditResults: Sendable {
  /// The rows audited: DATA, then the test set.
  public var images: AuditImages
  /// DATA's path.
  public var dataPath: String
  /// The test set's path.
  public var testPath: String?
  /// Groups of identical rows.
  public var exactDuplicates: [ExactDuplicateGroup]
  /// Similar, not identical, rows.
  public var nearDuplicates: [NearDuplicatePair]
  /// The threshold the near-duplicates were found with.
  public var nearDuplicateThreshold: Double
  /// `[data_row, test_row]` duplicates across the sets.
  public var leaks: [[Int]]
  /// Annotator agreement, with annotator B's table and labels (one per DATA row, nil missing).
  public var annotators: (agreement: AnnotatorAgreement, labelsB: String, labels: [String?])?
  /// DATA's profile.
  public var profile: DatasetProfile
  /// The test set's profile.
  public var testProfile: DatasetProfile?
  /// DATA's rows, farthest from their class first.
  public var outliers: [Outlier]
  /// Confident learning's label issues, with the probabilities and where they came from.
  public var labelIssues: LabelIssueFindings?
  /// The review queue, when there was a signal to rank by (probabilities, values or duplicates).
  public var reviewQueue: ReviewQueue?
  /// The values file the queue read, if any.
  public var valuesPath: String?
  /// Files DATA or the test set held that could not be read, with why.
  public var skipped: [(path: String, reason: String)] = []

  /// Confident learning's findings and their inputs.
  public struct LabelIssueFindings: Sendable {
    /// What `ConfidentLearning.findIssues` found.
    public var issues: LabelIssues
    /// The out-of-fold probabilities.
    public var probabilities: ClassProbabilities
    /// Where they came from: a file, or `5-fold cross-validation, logistic`.
    public var origin: String
  }

  /// Confident-learning input: out-of-fold probabilities (one row per DATA row) with their
  /// origin, and the settings.
  public struct LabelIssueInput: Sendable {
    /// The probabilities.
    public var probabilities: ClassProbabilities
    /// Where they came from.
    public var origin: String
    /// The filter and its options.
    public var learning: ConfidentLearning

    /// Input for `AuditResults.run`.
    public init(probabilities: ClassProbabilities, origin: String, learning: ConfidentLearning) {
      self.probabilities = probabilities
      self.origin = origin
      self.learning = learning
    }
  }

  /// The stages of an audit, for progress reports.
  public enum Stage: String, Sendable {
    /// Comparing the two annotators.
    case annotators = "comparing annotators"
    /// Hashing decoded pixels.
    case exactDuplicates = "finding exact duplicates"
    /// Descriptors, candidates and distances.
    case nearDuplicates = "finding near-duplicates"
    /// Classes, shapes, intensities, outliers.
    case profile = "profiling"
    /// Confident learning and the review queue.
    case labelIssues = "finding label issues"
  }

  /// Runs every check of the audit.
  ///
  /// - Parameters:
  ///   - images: DATA's rows then the test set's.
  ///   - labelsB: Annotator B's label of each DATA row (nil for missing) and the table's path.
  ///   - grades: The declared grade scale, or nil for the sorted union of labels.
  ///   - finder: The near-duplicate settings.
  ///   - labelIssues: Out-of-fold probabilities for confident learning, if any.
  ///   - values: Each DATA row's data value and the file they came from, if any.
  ///   - queueLength: How many rows the review queue keeps.
  ///   - progress: Called as each stage starts.
  /// - Throws: `AuditError` for annotator labels that cannot be compared, or probabilities
  ///   without a column for a DATA label.
  public static func run(
    images: AuditImages, dataPath: String, testPath: String?,
    labelsB: (labels: [String?], path: String)?, grades: [String]?,
    finder: NearDuplicateFinder = NearDuplicateFinder(), labelIssues: LabelIssueInput? = nil,
    values: (values: [Double], path: String)? = nil, queueLength: Int? = nil,
    progress: (Stage) -> Void = { _ in }
  ) throws(AuditError) -> AuditResults {
    var annotators: (AnnotatorAgreement, String, [String?])?
    if let labelsB {
      progress(.annotators)
      let first = (0..<images.dataCount).map { Optional(images.labels[$0]) }
      annotators = (
        try AnnotatorAgreement(first: first, second: labelsB.labels, grades: grades), labelsB.path,
        labelsB.labels
      )
    }
    progress(.exactDuplicates)
    let exact = images.exactDuplicates()
    progress(.nearDuplicates)
    let descriptors = finder.descriptors(images)
    let near = finder.pairs(images, descriptors: descriptors)
    progress(.profile)
    let dataRows = 0..<images.dataCount
    let testRows = images.dataCount..<images.count
    let leaks = images.leaks(exact: exact, near: near)
    var findings: LabelIssueFindings?
    let labels = Array(images.labels[dataRows])
    if let labelIssues {
      progress(.labelIssues)
      let probabilities = labelIssues.probabilities
      let column = Dictionary(
        probabilities.classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }
      )
      var indices = [Int]()
      for (row, label) in labels.enumerated() {
        guard let index = column[label] else {
          throw AuditError(
            "\(labelIssues.origin): no probability column for label \(label) of row \(row) "
              + "(columns: \(probabilities.classes.joined(separator: ", ")))")
        }
        indices.append(index)
      }
      findings = LabelIssueFindings(
        issues: try labelIssues.learning.findIssues(labels: indices, probabilities: probabilities),
        probabilities: probabilities, origin: labelIssues.origin)
    }
    if let values, values.values.count != labels.count {
      throw AuditError("\(values.path): \(values.values.count) values for \(labels.count) rows")
    }
    let limit = queueLength ?? max(100, labels.count / 10)
    var disagreements = [Int: String]()
    if let (agreement, _, labelsB) = annotators {
      for row in agreement.disagreements { disagreements[row] = labelsB[row] ?? "" }
    }
    let built = ReviewQueue(
      labels: labels, issues: findings.map { ($0.issues, $0.probabilities) },
      values: values?.values, exact: exact, near: near, leaks: leaks,
      disagreements: disagreements, limit: limit)
    let queue = built.items.isEmpty ? nil : built
    return AuditResults(
      images: images, dataPath: dataPath, testPath: testPath, exactDuplicates: exact,
      nearDuplicates: near, nearDuplicateThreshold: finder.threshold,
      leaks: leaks, annotators: annotators,
      profile: DatasetProfile(images, rows: dataRows),
      testProfile: testRows.isEmpty ? nil : DatasetProfile(images, rows: testRows),
      outliers: images.outliers(descriptors: descriptors, rows: dataRows),
      labelIssues: findings, reviewQueue: queue, valuesPath: values?.path)
  }

  /// The `report.json` content.
  public func report(glimpseVersion: String) -> AuditReport {
    AuditReport(
      glimpseVersion: glimpseVersion, data: dataPath, test: testPath,
      counts: AuditReport.Counts(data: images.dataCount, test: images.count - images.dataCount),
      sources: images.sources, labels: images.labels,
      exactDuplicates: exactDuplicates.map(\.rows),
      exactDuplicateConflicts: exactDuplicates.filter(\.labelConflict).map(\.rows),
      nearDuplicates: nearDuplicates.map { [Double($0.first), Double($0.second), $0.distance] },
      nearDuplicateThreshold: nearDuplicateThreshold, leaks: leaks,
      annotators: annotators.map { AuditReport.Annotators($0.agreement, labelsB: $0.labelsB) },
      profile: AuditReport.Profile(profile, firstRow: 0),
      testProfile: testProfile.map { AuditReport.Profile($0, firstRow: images.dataCount) },
      outliers: outliers.prefix(20).map { AuditReport.OutlierRow(row: $0.row, score: $0.score) },
      labelIssues: labelIssues.map(AuditReport.LabelIssueReport.init),
      reviewQueue: reviewQueue.map { AuditReport.ReviewQueueReport($0, sources: images.sources) },
      skipped: skipped.map { AuditReport.SkippedFile(path: $0.path, reason: $0.reason) })
  }
}

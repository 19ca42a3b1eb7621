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
  }

  /// Runs every check of the audit.
  ///
  /// - Parameters:
  ///   - images: DATA's rows then the test set's.
  ///   - labelsB: Annotator B's label of each DATA row (nil for missing) and the table's path.
  ///   - grades: The declared grade scale, or nil for the sorted union of labels.
  ///   - finder: The near-duplicate settings.
  ///   - progress: Called as each stage starts.
  /// - Throws: `AuditError` for annotator labels that cannot be compared.
  public static func run(
    images: AuditImages, dataPath: String, testPath: String?,
    labelsB: (labels: [String?], path: String)?, grades: [String]?,
    finder: NearDuplicateFinder = NearDuplicateFinder(), progress: (Stage) -> Void = { _ in }
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
    return AuditResults(
      images: images, dataPath: dataPath, testPath: testPath, exactDuplicates: exact,
      nearDuplicates: near, nearDuplicateThreshold: finder.threshold,
      leaks: images.leaks(exact: exact, near: near), annotators: annotators,
      profile: DatasetProfile(images, rows: dataRows),
      testProfile: testRows.isEmpty ? nil : DatasetProfile(images, rows: testRows),
      outliers: images.outliers(descriptors: descriptors, rows: dataRows))
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
      outliers: outliers.prefix(20).map { AuditReport.OutlierRow(row: $0.row, score: $0.score) })
  }
}

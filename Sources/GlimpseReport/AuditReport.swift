import FoundationEssentials
import GlimpseAudit
import GlimpseCore

/// `report.json` of `glimpse audit`: every finding, by row index, with the file or table line
/// each row came from. The schema is documented in docs/audit.md and `glimpse help audit`; keys
/// are snake_case and written sorted, so the same data gives the same bytes.
///
/// Row indices count from 0 through DATA's rows, then the test set's (`counts.data` is the
/// first test row); `sources[i]` and `labels[i]` describe row `i`.
public struct AuditReport: Codable, Sendable, Equatable {
  /// Rows in each set.
  public struct Counts: Codable, Sendable, Equatable {
    /// Rows of DATA.
    public var data: Int
    /// Rows of the test set (0 without one).
    public var test: Int
  }

  /// The two annotators' agreement (`AnnotatorAgreement`).
  public struct Annotators: Codable, Sendable, Equatable {
    /// Cohen's kappas; each nil where undefined.
    public struct Kappa: Codable, Sendable, Equatable {
      /// Unweighted kappa.
      public var unweighted: Double?
      /// Linear-weighted kappa (weights `|i − j|` on the scale).
      public var linear: Double?
      /// Quadratic-weighted kappa (weights `(i − j)²`).
      public var quadratic: Double?
    }
    /// The label table of annotator B.
    public var labelsB: String
    /// The grade scale: rows and columns of `crosstab`.
    public var classes: [String]
    /// `crosstab[a][b]`: items graded `classes[a]` by A (DATA's labels), `classes[b]` by B.
    public var crosstab: [[Int]]
    /// Items compared (both labels present).
    public var compared: Int
    /// The fraction of compared items with equal grades.
    public var agreement: Double
    /// Cohen's kappas.
    public var kappa: Kappa
    /// DATA rows graded differently.
    public var disagreements: [Int]
    /// DATA rows graded two or more steps apart.
    public var disagreements2plus: [Int]
    /// DATA rows left out: a label missing from A or B.
    public var droppedMissing: [Int]

    enum CodingKeys: String, CodingKey {
      case labelsB = "labels_b"
      case classes, crosstab, compared, agreement, kappa, disagreements
      case disagreements2plus = "disagreements_2plus"
      case droppedMissing = "dropped_missing"
    }
  }

  /// Classes, shapes and intensities of one set (`DatasetProfile`).
  public struct Profile: Codable, Sendable, Equatable {
    /// One class and its row count.
    public struct ClassCount: Codable, Sendable, Equatable {
      /// The class name.
      public var name: String
      /// Its rows.
      public var count: Int
    }
    /// One image shape and its row count.
    public struct ShapeCount: Codable, Sendable, Equatable {
      /// Height × width × channels, e.g. `28x28x1`.
      public var shape: String
      /// Its rows.
      public var count: Int
    }
    /// Rows profiled.
    public var rows: Int
    /// Rows per class, classes sorted.
    public var classes: [ClassCount]
    /// The largest class over the smallest.
    public var imbalanceRatio: Double?
    /// Rows per image shape, most common first.
    public var shapes: [ShapeCount]
    /// Each channel's mean sample in [0, 1].
    public var channelMeans: [Double]
    /// Each channel's standard deviation.
    public var channelDeviations: [Double]
    /// Rows whose samples are all equal.
    public var blankRows: [Int]

    enum CodingKeys: String, CodingKey {
      case rows, classes, shapes
      case imbalanceRatio = "imbalance_ratio"
      case channelMeans = "channel_means"
      case channelDeviations = "channel_deviations"
      case blankRows = "blank_rows"
    }
  }

  /// A row far from its class.
  public struct OutlierRow: Codable, Sendable, Equatable {
    /// The row.
    public var row: Int
    /// Mean distance to its 5 nearest same-class rows over the class median of that distance
    /// (`AuditImages.outliers`).
    public var score: Double
  }

  /// The schema's version; a change that breaks readers increments it.
  public var schemaVersion = 1
  /// The version of Glimpse that wrote the report.
  public var glimpseVersion: String
  /// DATA's path.
  public var data: String
  /// The test set's path, when one was audited.
  public var test: String?
  /// Rows in each set.
  public var counts: Counts
  /// Where each row came from: a file, or `table.csv:LINE`.
  public var sources: [String]
  /// Each row's label (annotator A's, for DATA).
  public var labels: [String]
  /// Groups of rows with identical decoded pixels, each ascending, ordered by first row.
  public var exactDuplicates: [[Int]]
  /// The groups of `exactDuplicates` whose rows carry different labels.
  public var exactDuplicateConflicts: [[Int]]
  /// `[i, j, distance]` with `i < j`, closest first (identical pairs left out).
  public var nearDuplicates: [[Double]]
  /// The distance at or under which two rows are near-duplicates.
  public var nearDuplicateThreshold: Double
  /// `[data_row, test_row]`: a DATA row and a test row that are exact or near duplicates.
  public var leaks: [[Int]]
  /// The two annotators, when `--labels-b` was given.
  public var annotators: Annotators?
  /// DATA's profile.
  public var profile: Profile
  /// The test set's profile, when there is one.
  public var testProfile: Profile?
  /// The DATA rows farthest from their class, highest score first (at most 20).
  public var outliers: [OutlierRow]
  /// Confident learning's label issues, when probabilities were given (`--folds`,
  /// `--pred-probs`).
  public var labelIssues: LabelIssueReport?
  /// The review queue, when any signal ranks the rows.
  public var reviewQueue: ReviewQueueReport?
  /// Files that could not be read (left out of every row index).
  public var skipped: [SkippedFile] = []

  enum CodingKeys: String, CodingKey {
    case schemaVersion = "schema_version"
    case glimpseVersion = "glimpse_version"
    case data, test, counts, sources, labels, leaks, annotators, profile, outliers
    case exactDuplicates = "exact_duplicates"
    case exactDuplicateConflicts = "exact_duplicate_conflicts"
    case nearDuplicates = "near_duplicates"
    case nearDuplicateThreshold = "near_duplicate_threshold"
    case testProfile = "test_profile"
    case labelIssues = "label_issues"
    case reviewQueue = "review_queue"
    case skipped
  }

  /// The JSON bytes, keys sorted.
  public func encoded() throws(EncodingError) -> [UInt8] {
    try sortedKeysJSON(self)
  }

  /// A report decoded from JSON bytes (as `encoded()` writes them).
  public static func decoded(_ bytes: [UInt8]) throws -> AuditReport {
    try JSONDecoder().decode(AuditReport.self, from: Data(bytes))
  }
}

extension AuditReport.Profile {
  /// The report's form of a profile.
  init(_ profile: DatasetProfile, firstRow: Int) {
    rows = profile.count
    classes = profile.classes.map { ClassCount(name: $0.name, count: $0.count) }
    let ratio = profile.imbalanceRatio
    imbalanceRatio = ratio.isFinite ? ratio : nil
    shapes = profile.shapes.map {
      ShapeCount(
        shape: "\($0.shape.height)x\($0.shape.width)x\($0.shape.channels)", count: $0.count)
    }
    channelMeans = profile.channelMeans
    channelDeviations = profile.channelDeviations
    blankRows = profile.blankRows
  }
}

extension AuditReport.Annotators {
  /// The report's form of an agreement, for annotator B's table `labelsB`.
  init(_ agreement: AnnotatorAgreement, labelsB: String) {
    self.labelsB = labelsB
    classes = agreement.classes
    crosstab = agreement.crosstab
    compared = agreement.comparedCount
    self.agreement = agreement.agreement
    kappa = Kappa(
      unweighted: agreement.kappa?.unweighted, linear: agreement.kappa?.linear,
      quadratic: agreement.kappa?.quadratic)
    disagreements = agreement.disagreements
    disagreements2plus = agreement.disagreementsTwoPlus
    droppedMissing = agreement.droppedMissing
  }
}

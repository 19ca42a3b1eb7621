import GlimpseAudit
import GlimpseCore

extension AuditReport {
  /// Confident learning's findings in `report.json` (`label_issues`).
  public struct LabelIssueReport: Codable, Sendable, Equatable {
    /// The filter, as cleanlab names it (`prune_by_noise_rate`, ...).
    public var filterBy: String
    /// Where the out-of-fold probabilities came from (a file, or the folds and model).
    public var probabilities: String
    /// The classes: rows and columns of `confidentJoint`, the order of `thresholds`.
    public var classes: [String]
    /// Per-class thresholds (mean self-confidence of the rows given each class).
    public var thresholds: [Double]
    /// The calibrated confident joint: rows = given label, columns = the confident class.
    public var confidentJoint: [[Int]]
    /// The flagged DATA rows, lowest self-confidence first.
    public var indices: [Int]

    enum CodingKeys: String, CodingKey {
      case classes, thresholds, indices, probabilities
      case filterBy = "filter_by"
      case confidentJoint = "confident_joint"
    }

    /// The report's form of the findings.
    init(_ findings: AuditResults.LabelIssueFindings) {
      filterBy = findings.issues.filter.rawValue
      probabilities = findings.origin
      classes = findings.probabilities.classes
      thresholds = findings.issues.joint.thresholds
      confidentJoint = findings.issues.joint.calibrated
      indices = findings.issues.ranked
    }
  }

  /// The review queue in `report.json` (`review_queue`).
  public struct ReviewQueueReport: Codable, Sendable, Equatable {
    /// One queued row.
    public struct Item: Codable, Sendable, Equatable {
      /// The DATA row.
      public var row: Int
      /// Its file or table line.
      public var source: String
      /// The given label.
      public var given: String
      /// The suggested label, or null.
      public var suggested: String?
      /// The fused score (higher = more suspect).
      public var score: Double
      /// Why the row is suspected.
      public var reasons: [String]
    }
    /// How the signals were fused.
    public var fusion: String
    /// The signals fused.
    public var signals: [String]
    /// The queue, most suspect first.
    public var items: [Item]

    /// The report's form of a queue.
    init(_ queue: ReviewQueue, sources: [String]) {
      fusion = "reciprocal rank fusion, 1/(\(Int(ReviewQueue.fusionConstant)) + rank)"
      signals = queue.signals
      items = queue.items.map {
        Item(
          row: $0.row, source: sources[$0.row], given: $0.given, suggested: $0.suggested,
          score: $0.score, reasons: $0.reasons)
      }
    }
  }

  /// A file of DATA or the test set that could not be read.
  public struct SkippedFile: Codable, Sendable, Equatable {
    /// The file.
    public var path: String
    /// Why it was skipped.
    public var reason: String
  }
}

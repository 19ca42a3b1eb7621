import GlimpseAudit
import GlimpseCore
import GlimpseRender

/// One file of an audit's output folder: its name inside the folder and its bytes.
public struct AuditFile: Sendable {
  /// The file name (`report.json`, `near_duplicates.png`, ...).
  public var name: String
  /// The content.
  public var bytes: [UInt8]

  /// A named file.
  public init(name: String, bytes: [UInt8]) {
    self.name = name
    self.bytes = bytes
  }
}

extension AuditResults {
  /// Everything `glimpse audit` writes into its output folder, as values: `report.json`, the
  /// contact sheets (PNG), the CSV tables and `index.html`, which shows them.
  ///
  /// - Throws: `RenderError` when a figure cannot be drawn, `EncodingError` when the report
  ///   cannot be encoded.
  public func files(glimpseVersion: String) throws -> [AuditFile] {
    var files = [AuditFile]()
    let report = report(glimpseVersion: glimpseVersion)
    files.append(AuditFile(name: "report.json", bytes: try report.encoded()))
    var figures = [String: String]()  // file name → what it shows
    func sheet(
      _ name: String, _ title: String, _ items: [ContactSheet.Item], columns: Int,
      cellSize: Int = 84
    ) throws {
      guard !items.isEmpty else { return }
      let invert = ContactSheet.prefersInverted(items.map(\.image))
      let bytes = try ContactSheet(
        title: title, invert: invert, columns: columns, cellSize: cellSize
      ).pngData(items)
      files.append(AuditFile(name: name, bytes: bytes))
      figures[name] = title
    }
    if let annotators {
      // The widest gaps first: those are the items a reviewer should see.
      let position = Dictionary(
        uniqueKeysWithValues: annotators.agreement.classes.enumerated().map { ($1, $0) })
      func gap(_ row: Int) -> Int {
        abs((position[images.labels[row]] ?? 0) - (position[annotators.labels[row] ?? ""] ?? 0))
      }
      let rows = annotators.agreement.disagreements.sorted { (gap($1), $0) < (gap($0), $1) }
      try sheet(
        "disagreements.png",
        "Annotators disagree on \(rows.count) items"
          + (rows.count > 28 ? " (28 widest gaps)" : ""),
        rows.prefix(28).map { row in
          ContactSheet.Item(
            image: images.image(at: row),
            caption: "A: \(images.labels[row]) · B: \(annotators.labels[row] ?? "")")
        }, columns: 7)
    }
    if let annotators {
      let agreement = annotators.agreement
      let high = Double(agreement.crosstab.flatMap { $0 }.max() ?? 0)
      var figure = ConfusionMatrixFigure(
        values: agreement.crosstab.map { row in row.map { high > 0 ? Double($0) / high : 0 } },
        classNames: agreement.classes,
        title: "Annotators: \(agreement.comparedCount) items, "
          + "agreement \(formatFixed(agreement.agreement * 100, digits: 1)) %")
      figure.rowAxisLabel = "annotator A"
      figure.columnAxisLabel = "annotator B"
      figure.cellLabels = agreement.crosstab.map { row in row.map { $0 == 0 ? "" : "\($0)" } }
      files.append(AuditFile(name: "crosstab.png", bytes: try figure.pngData()))
      figures["crosstab.png"] = figure.title
    }
    if let queue = reviewQueue {
      // Wider cells than the other sheets: the captions name two classes.
      try sheet(
        "review_queue.png",
        "Review queue: the \(min(queue.items.count, 20)) most suspect rows (#row: given → suggested)",
        queue.items.prefix(20).map { item in
          ContactSheet.Item(
            image: images.image(at: item.row),
            caption: "#\(item.row): given \(item.given)"
              + (item.suggested.map { " → suggested \($0)" } ?? ""))
        }, columns: 5, cellSize: 168)
    }
    let groups = exactDuplicates.prefix(12)
    try sheet(
      "exact_duplicates.png",
      "Exact duplicates: \(exactDuplicates.count) groups"
        + (exactDuplicates.count > 12 ? " (first 12)" : ""),
      groups.flatMap { group in
        group.rows.prefix(2).map { row in
          ContactSheet.Item(
            image: images.image(at: row),
            caption: "#\(row) · \(images.labels[row])" + (group.labelConflict ? " !" : ""))
        }
      }, columns: 6)
    let pairs = nearDuplicates.prefix(15)
    try sheet(
      "near_duplicates.png",
      "Closest near-duplicate pairs: \(pairs.count) of \(nearDuplicates.count)",
      pairs.flatMap { pair in
        [
          ContactSheet.Item(
            image: images.image(at: pair.first),
            caption: "#\(pair.first) · \(images.labels[pair.first])"),
          ContactSheet.Item(
            image: images.image(at: pair.second),
            caption: "#\(pair.second) d=\(formatFixed(pair.distance, digits: 4))"),
        ]
      }, columns: 6)
    try sheet(
      "outliers.png", "Farthest from their class (k-NN distance over the class median)",
      outliers.prefix(14).map { outlier in
        ContactSheet.Item(
          image: images.image(at: outlier.row),
          caption:
            "#\(outlier.row) · \(images.labels[outlier.row]) · \(formatFixed(outlier.score, digits: 1))×"
        )
      }, columns: 7)
    files += tables()
    files.append(
      AuditFile(
        name: "index.html", bytes: Array(AuditPage(results: self, figures: figures).html.utf8)))
    return files
  }

  /// The CSV tables: duplicates, pairs, leaks and (with two annotators) disagreements.
  func tables() -> [AuditFile] {
    func csv(_ name: String, _ header: [String], _ rows: [[String]]) -> AuditFile {
      let lines = ([header] + rows).map { $0.map(csvField).joined(separator: ",") }
      return AuditFile(name: name, bytes: Array((lines.joined(separator: "\n") + "\n").utf8))
    }
    var files = [
      csv(
        "exact_duplicates.csv", ["group", "row", "set", "source", "label", "label_conflict"],
        exactDuplicates.enumerated().flatMap { index, group in
          group.rows.map { row in
            [
              "\(index)", "\(row)", images.isTest(row) ? "test" : "data", images.sources[row],
              images.labels[row], group.labelConflict ? "1" : "0",
            ]
          }
        }),
      csv(
        "near_duplicates.csv",
        [
          "first", "second", "distance", "first_source", "second_source", "first_label",
          "second_label",
        ],
        nearDuplicates.map { pair in
          [
            "\(pair.first)", "\(pair.second)", "\(pair.distance)", images.sources[pair.first],
            images.sources[pair.second], images.labels[pair.first], images.labels[pair.second],
          ]
        }),
      csv(
        "leaks.csv", ["data_row", "test_row", "data_source", "test_source"],
        leaks.map { ["\($0[0])", "\($0[1])", images.sources[$0[0]], images.sources[$0[1]]] }),
    ]
    if let queue = reviewQueue {
      files.append(
        csv(
          "review_queue.csv", ["rank", "row", "source", "given", "suggested", "score", "reasons"],
          queue.items.enumerated().map { rank, item in
            [
              "\(rank + 1)", "\(item.row)", images.sources[item.row], item.given,
              item.suggested ?? "", "\(item.score)", item.reasons.joined(separator: "; "),
            ]
          }))
    }
    if let findings = labelIssues {
      let issues = findings.issues
      files.append(
        csv(
          "label_issues.csv", ["rank", "row", "source", "given", "self_confidence", "predicted"],
          issues.ranked.enumerated().map { rank, row in
            [
              "\(rank + 1)", "\(row)", images.sources[row], images.labels[row],
              "\(issues.selfConfidence[row])",
              findings.probabilities.classes[findings.probabilities.argmax(row)],
            ]
          }))
    }
    if let annotators {
      let position = Dictionary(
        uniqueKeysWithValues: annotators.agreement.classes.enumerated().map { ($1, $0) })
      files.append(
        csv(
          "disagreements.csv", ["row", "source", "a", "b", "steps"],
          annotators.agreement.disagreements.map { row in
            let a = images.labels[row]
            let b = annotators.labels[row] ?? ""
            let steps = abs((position[a] ?? 0) - (position[b] ?? 0))
            return ["\(row)", images.sources[row], a, b, "\(steps)"]
          }))
    }
    return files
  }
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
func csvField(_ text: String) -> String {
  guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
    return text
  }
  return "\"" + text.replacing("\"", with: "\"\"") + "\""
}

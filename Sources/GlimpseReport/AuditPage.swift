import GlimpseAudit
import GlimpseCore

/// `index.html` of an audit: a plain page with the findings' tables, simple bar charts drawn
/// in HTML, and the contact sheets. Self-contained (no scripts, no remote files).
public struct AuditPage: Sendable {
  /// What the page shows.
  public var results: AuditResults
  /// The PNG figures written beside the page, by file name, with their titles.
  public var figures: [String: String]

  /// A page for an audit's results and its figures.
  public init(results: AuditResults, figures: [String: String]) {
    self.results = results
    self.figures = figures
  }

  /// The page's HTML.
  public var html: String {
    let images = results.images
    var body = ""
    body += "<h1>Dataset audit</h1>\n<p>DATA: <code>\(escape(results.dataPath))</code>, "
    body += "\(images.dataCount) rows"
    if let test = results.testPath {
      body += "; test set: <code>\(escape(test))</code>, \(images.count - images.dataCount) rows"
    }
    body += ". Row numbers (#) count from 0 through DATA, then the test set; "
    body += "<code>report.json</code> maps each to its file or table line.</p>\n"
    body += summary()
    body += skippedSection()
    if let queue = results.reviewQueue { body += queueSection(queue) }
    if let findings = results.labelIssues { body += labelIssueSection(findings) }
    if let annotators = results.annotators { body += annotatorSection(annotators) }
    body += duplicateSection()
    body += profileSection()
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>Glimpse audit</title>
      <style>
      body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
      h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
      table { border-collapse: collapse; margin: .6em 0; }
      td, th { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
      th { background: #f3f3f3; }
      td.l, th.l { text-align: left; }
      .bar { background: #4a7fb5; height: 1em; display: inline-block; vertical-align: middle; }
      img { max-width: 100%; border: 1px solid #ddd; margin: .5em 0; }
      .warn { color: #a33; font-weight: bold; }
      .note { color: #666; font-size: .9em; }
      </style></head><body>
      \(body)</body></html>

      """
  }

  func summary() -> String {
    var rows = [(String, String)]()
    let conflicts = results.exactDuplicates.filter(\.labelConflict).count
    rows.append(
      (
        "Exact duplicate groups",
        "\(results.exactDuplicates.count)"
          + (conflicts > 0 ? " (\(conflicts) with conflicting labels)" : "")
      ))
    rows.append(("Near-duplicate pairs", "\(results.nearDuplicates.count)"))
    if results.testPath != nil {
      rows.append(("Leaks into the test set", "\(results.leaks.count)"))
    }
    if let annotators = results.annotators {
      let agreement = annotators.agreement
      rows.append(("Annotator agreement", percent(agreement.agreement)))
      rows.append(
        ("Cohen's kappa (unweighted)", agreement.kappa.map { fixed($0.unweighted) } ?? "undefined"))
    }
    if let findings = results.labelIssues {
      rows.append(
        ("Label issues (\(findings.issues.filter.rawValue))", "\(findings.issues.ranked.count)"))
    }
    if !results.skipped.isEmpty {
      rows.append(("Unreadable files skipped", "\(results.skipped.count)"))
    }
    rows.append(("Classes", "\(results.profile.classes.count)"))
    return "<table>\n"
      + rows.map { "<tr><th class=\"l\">\(escape($0.0))</th><td>\(escape($0.1))</td></tr>\n" }
      .joined() + "</table>\n"
  }

  func annotatorSection(
    _ annotators: (agreement: AnnotatorAgreement, labelsB: String, labels: [String?])
  ) -> String {
    let agreement = annotators.agreement
    var html = "<h2>Two annotators</h2>\n"
    html += "<p>A: DATA's labels; B: <code>\(escape(annotators.labelsB))</code>. "
    html += "\(agreement.comparedCount) items compared"
    if !agreement.droppedMissing.isEmpty {
      html += ", \(agreement.droppedMissing.count) left out (a label missing)"
    }
    html += ". Observed agreement \(percent(agreement.agreement)).</p>\n"
    if let kappa = agreement.kappa {
      html += "<table><tr><th class=\"l\">Cohen's kappa</th><th>unweighted</th><th>linear</th>"
      html += "<th>quadratic</th></tr><tr><td class=\"l\"></td><td>\(fixed(kappa.unweighted))</td>"
      html += "<td>\(fixed(kappa.linear))</td><td>\(fixed(kappa.quadratic))</td></tr></table>\n"
    } else {
      html += "<p>Cohen's kappa is undefined: every item falls in one grade.</p>\n"
    }
    html += "<p>Cross-tabulation: rows are A's grades, columns B's; shading by count.</p>\n"
    let high = Double(agreement.crosstab.flatMap { $0 }.max() ?? 1)
    html += "<table><tr><th>A \\ B</th>"
    html += agreement.classes.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
    for (row, name) in agreement.classes.enumerated() {
      html += "<tr><th>\(escape(name))</th>"
      for count in agreement.crosstab[row] {
        let shade = high > 0 ? Double(count) / high : 0
        let colour = "rgba(74,127,181,\(formatFixed(shade, digits: 2)))"
        let ink = shade > 0.55 ? "#fff" : "#222"
        html += "<td style=\"background:\(colour);color:\(ink)\">\(count)</td>"
      }
      html += "</tr>\n"
    }
    html += "</table>\n"
    html += figure("crosstab.png")
    html += "<p>\(agreement.disagreements.count) items graded differently, "
    html += "\(agreement.disagreementsTwoPlus.count) of them two or more grades apart "
    html += "(<code>disagreements.csv</code>).</p>\n"
    html += figure("disagreements.png")
    return html
  }

  func duplicateSection() -> String {
    let images = results.images
    var html = "<h2>Duplicates</h2>\n"
    html += "<p>Exact duplicates have identical decoded pixels. "
    html += "\(results.exactDuplicates.count) groups (<code>exact_duplicates.csv</code>); "
    html += "a ! marks a group whose labels differ.</p>\n"
    html += figure("exact_duplicates.png")
    html += "<p>Near-duplicates: shift-minimised correlation distance at most "
    html += "\(results.nearDuplicateThreshold) on a 32×32 grey copy; "
    html += "\(results.nearDuplicates.count) pairs (<code>near_duplicates.csv</code>).</p>\n"
    html += figure("near_duplicates.png")
    if results.testPath != nil {
      html += "<h2>Leaks</h2>\n<p>\(results.leaks.count) test rows duplicate a DATA row "
      html += "(<code>leaks.csv</code>).</p>\n"
      if !results.leaks.isEmpty {
        html += "<table><tr><th>DATA #</th><th class=\"l\">source</th><th>test #</th>"
        html += "<th class=\"l\">source</th></tr>\n"
        for leak in results.leaks.prefix(20) {
          html += "<tr><td>\(leak[0])</td><td class=\"l\">\(escape(images.sources[leak[0]]))</td>"
          html +=
            "<td>\(leak[1])</td><td class=\"l\">\(escape(images.sources[leak[1]]))</td></tr>\n"
        }
        html += "</table>\n"
      }
    }
    return html
  }

  func profileSection() -> String {
    let profile = results.profile
    var html = "<h2>Classes</h2>\n<table><tr><th class=\"l\">class</th><th>DATA rows</th>"
    let testCounts = Dictionary(
      uniqueKeysWithValues: (results.testProfile?.classes ?? []).map { ($0.name, $0.count) })
    if results.testProfile != nil { html += "<th>test rows</th>" }
    html += "<th class=\"l\"></th></tr>\n"
    let high = Double(profile.classes.map(\.count).max() ?? 1)
    for item in profile.classes {
      html += "<tr><td class=\"l\">\(escape(item.name))</td><td>\(item.count)</td>"
      if results.testProfile != nil { html += "<td>\(testCounts[item.name] ?? 0)</td>" }
      let width = Int((Double(item.count) / high * 300).rounded())
      html += "<td class=\"l\"><span class=\"bar\" style=\"width:\(width)px\"></span></td></tr>\n"
    }
    html += "</table>\n"
    if profile.imbalanceRatio.isFinite {
      html +=
        "<p>Largest class over smallest: \(formatFixed(profile.imbalanceRatio, digits: 2)).</p>\n"
    }
    html += "<h2>Images</h2>\n<p>Shapes (height × width × channels): "
    html += profile.shapes.map { "\($0.shape) (\($0.count) rows)" }.joined(separator: ", ")
    html += ". Channel means: "
    html += profile.channelMeans.map { formatFixed($0, digits: 3) }.joined(separator: ", ")
    html += "; standard deviations: "
    html += profile.channelDeviations.map { formatFixed($0, digits: 3) }.joined(separator: ", ")
    html += ". Blank images: \(profile.blankRows.count).</p>\n"
    html += "<p>Mean intensity of each image (DATA), in ten bins over [0, 1]:</p>\n"
    var bins = [Int](repeating: 0, count: 10)
    for mean in profile.imageMeans { bins[min(Int(mean * 10), 9)] += 1 }
    let highest = Double(bins.max() ?? 1)
    html += "<table>\n"
    for (index, count) in bins.enumerated() {
      let width = highest > 0 ? Int((Double(count) / highest * 300).rounded()) : 0
      html += "<tr><td class=\"l\">\(formatFixed(Double(index) / 10, digits: 1))–"
      html += "\(formatFixed(Double(index + 1) / 10, digits: 1))</td><td>\(count)</td>"
      html += "<td class=\"l\"><span class=\"bar\" style=\"width:\(width)px\"></span></td></tr>\n"
    }
    html += "</table>\n<h2>Outliers</h2>\n"
    html += "<p>DATA rows farthest from their own class: the mean Euclidean distance from the "
    html += "row's 32×32 grey copy to its 5 nearest of the same class, over the class's median "
    html += "of that distance (2 = twice as far as a typical row of the class).</p>\n"
    html += figure("outliers.png")
    return html
  }

  func skippedSection() -> String {
    guard !results.skipped.isEmpty else { return "" }
    var html = "<h2>Skipped files</h2>\n<p class=\"warn\">\(results.skipped.count) "
    html += "file\(results.skipped.count == 1 ? "" : "s") could not be read and are left out "
    html += "of every count and row number:</p>\n<ul>\n"
    for file in results.skipped {
      html += "<li><code>\(escape(file.path))</code>: \(escape(file.reason))</li>\n"
    }
    return html + "</ul>\n"
  }

  func queueSection(_ queue: ReviewQueue) -> String {
    let images = results.images
    var html = "<h2>Review queue</h2>\n<p>The rows most worth a second look, fusing "
    let signals = queue.signals
    html +=
      signals.count > 1
      ? signals.dropLast().joined(separator: ", ") + " and " + (signals.last ?? "")
      : signals.joined()
    html += " by reciprocal rank fusion (each ranking adds 1/(60 + rank)); "
    html += "<code>review_queue.csv</code> holds \(queue.items.count) rows.</p>\n"
    html += figure("review_queue.png")
    html += "<table><tr><th>#</th><th>row</th><th class=\"l\">source</th><th>given</th>"
    html += "<th>suggested</th><th>score</th><th class=\"l\">why</th></tr>\n"
    for (rank, item) in queue.items.prefix(30).enumerated() {
      html += "<tr><td>\(rank + 1)</td><td>\(item.row)</td>"
      html += "<td class=\"l\">\(escape(images.sources[item.row]))</td>"
      html += "<td>\(escape(item.given))</td><td>\(escape(item.suggested ?? ""))</td>"
      html += "<td>\(formatFixed(item.score, digits: 4))</td>"
      html += "<td class=\"l\">\(escape(item.reasons.joined(separator: "; ")))</td></tr>\n"
    }
    return html + "</table>\n"
  }

  func labelIssueSection(_ findings: AuditResults.LabelIssueFindings) -> String {
    let issues = findings.issues
    let classes = findings.probabilities.classes
    var html = "<h2>Label issues (confident learning)</h2>\n"
    html += "<p>Out-of-fold probabilities: \(escape(findings.origin)). Filter "
    html += "<code>\(issues.filter.rawValue)</code> (cleanlab's names): "
    html += "\(issues.ranked.count) of \(issues.mask.count) rows flagged, lowest "
    html += "self-confidence first (<code>label_issues.csv</code>).</p>\n"
    html += "<p>Calibrated confident joint: rows are the given labels, columns the classes the "
    html += "model is confident of; off the diagonal are the estimated label errors.</p>\n"
    html += "<table><tr><th>given \\ confident</th>"
    html += classes.map { "<th>\(escape($0))</th>" }.joined() + "<th>threshold</th></tr>\n"
    for (row, name) in classes.enumerated() {
      html += "<tr><th>\(escape(name))</th>"
      for (column, count) in issues.joint.calibrated[row].enumerated() {
        let mark = column != row && count > 0 ? " class=\"warn\"" : ""
        html += "<td\(mark)>\(count)</td>"
      }
      html += "<td>\(formatFixed(issues.joint.thresholds[row], digits: 3))</td></tr>\n"
    }
    return html + "</table>\n"
  }

  func figure(_ name: String) -> String {
    guard let title = figures[name] else { return "<p class=\"note\">(none)</p>\n" }
    return "<p><img src=\"\(name)\" alt=\"\(escape(title))\"></p>\n"
  }

  func percent(_ value: Double) -> String { formatFixed(value * 100, digits: 1) + " %" }

  func fixed(_ value: Double) -> String { formatFixed(value, digits: 4) }
}

/// Text made safe inside HTML (elements and attribute values).
func escape(_ text: String) -> String { htmlEscaped(text) }

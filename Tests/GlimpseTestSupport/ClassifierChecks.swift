import GlimpseCore
import GlimpseModels

// Implementation notes
// 1. In the spirit of scikit-learn's `check_estimator`: one function runs the checks every
//    `Classifier` must pass, whatever the family, on a small dataset the caller chooses, and
//    returns what it checked and what failed (rather than asserting), so a test states
//    `report.failures == []` and the report names every failing check in one message.
// 2. The checks compare bits where the protocol promises bits (a saved and loaded model, two fits
//    with the same seed) and use a stated tolerance only where rounding is allowed to differ
//    (a row scored alone against the same row in a larger GEMM; a Float network's row sums).
// 3. Decisions under a relabelling are compared by class name, and only on rows whose top two
//    probabilities differ: the documented tie rule (the lower class index) moves with the
//    indices, so a tied row may legitimately change its name.

/// The rule `predict` must follow, computed independently of `predict` itself.
public struct ClassifierDecisionRule<Model: Classifier>: Sendable {
  /// What the rule is, for the report.
  public var name: String
  /// The decision of each row of `features` by the rule.
  public var decide: @Sendable (Model, Matrix) -> [Int]

  /// A rule with a name and a reference implementation.
  public init(name: String, decide: @escaping @Sendable (Model, Matrix) -> [Int]) {
    self.name = name
    self.decide = decide
  }

  /// The protocol's default: the argmax of `predictProbabilities`, the first class on ties.
  public static var argmaxOfProbabilities: Self {
    Self(name: "argmax of predictProbabilities, first class on ties") { model, features in
      let probabilities = model.predictProbabilities(features)
      return (0..<probabilities.rows).map { row in
        var best = 0
        for column in 0..<probabilities.columns
        where probabilities[row, column] > probabilities[row, best] {
          best = column
        }
        return best
      }
    }
  }
}

/// Tolerances of `checkClassifier`, stated by the caller for its model family.
public struct ClassifierCheckOptions: Sendable {
  /// Largest allowed |Σ row − 1| of a probability row: 1e-9 for models computed in `Double`;
  /// a `Float` network states its own (about 1e-6 for a handful of classes).
  public var sumTolerance: Double
  /// Largest allowed difference between a row scored alone (or in another row order) and the
  /// same row in the full batch: OpenBLAS picks different kernels for different matrix shapes, so
  /// the bits may differ; the decisions may not.
  public var batchTolerance: Double
  /// When set, the probability columns of a model fitted on relabelled classes must equal the
  /// original model's columns, moved to their new indices, within this tolerance (0 for models
  /// that never look at label values, such as k-NN; the optimizer's tolerance for a convex fit).
  /// `nil` checks the decisions only (models whose training path depends on the class order:
  /// the SVM's cross-validation folds, a network's output units).
  public var relabelProbabilityTolerance: Double?
  /// Largest allowed difference between the probabilities of the other scoring paths (a
  /// `MaskedBatch` scored from dot products, 8-bit `PixelRows` read as codes) and the same rows
  /// written out as `Double`: the arithmetic differs in order, not in what it computes.
  public var scoringPathTolerance: Double

  /// Tolerances for a `Double` model by default.
  public init(
    sumTolerance: Double = 1e-9, batchTolerance: Double = 1e-12,
    relabelProbabilityTolerance: Double? = nil, scoringPathTolerance: Double = 1e-9
  ) {
    self.sumTolerance = sumTolerance
    self.batchTolerance = batchTolerance
    self.relabelProbabilityTolerance = relabelProbabilityTolerance
    self.scoringPathTolerance = scoringPathTolerance
  }
}

/// What `checkClassifier` checked, and what failed.
public struct ClassifierCheckReport: Sendable, CustomStringConvertible {
  /// The model kind (`ModelArchive.kind`).
  public var kind: String
  /// The checks that ran, by name, in order.
  public var checks: [String] = []
  /// One line per failed expectation, prefixed by its check's name; empty when all passed.
  public var failures: [String] = []
  /// What the checks measured (largest sum error, batching and relabelling differences, rows
  /// compared), so a stated tolerance can be compared with what it allows.
  public var measurements: [String] = []

  /// Whether every check passed.
  public var passed: Bool { failures.isEmpty }

  /// The kind, the checks run and every failure, one per line.
  public var description: String {
    var lines = ["\(kind): \(checks.count) checks (\(checks.joined(separator: ", ")))"]
    lines += measurements.map { "  measured \($0)" }
    lines += failures.map { "  FAILED \($0)" }
    return lines.joined(separator: "\n")
  }

  mutating func run(_ name: String, _ body: (inout [String]) throws -> Void) rethrows {
    checks.append(name)
    var found: [String] = []
    try body(&found)
    failures += found.map { "\(name): \($0)" }
  }
}

/// The checks every `Classifier` must pass, as scikit-learn's `check_estimator` runs on every
/// estimator.
///
/// Checks, in order (names as in the report):
/// - `fit`: `classNames` are the dataset's, in its order; `featureCount` is the dataset's;
///   probabilities are `[rows, classNames.count]`.
/// - `probabilities`: every probability of `probe` is finite and in [0, 1] (no tolerance), and
///   every row sums to 1 within `options.sumTolerance`.
/// - `decision rule`: `predict` equals `rule` on `probe` (by default the argmax of the
///   probabilities, first class on ties; the SVM states its one-vs-one vote).
/// - `empty batch`: zero rows give `[0, classNames.count]` probabilities and no decisions.
/// - `feature count`: `checkFeatures` accepts `featureCount` columns and refuses one more with
///   `ModelError.featureCountMismatch`.
/// - `batching`: each of the first, middle and last probe rows scored alone, and the probe rows
///   scored in reverse order, agree with the full batch within `options.batchTolerance`, with
///   identical decisions.
/// - `scoring paths`: a `MaskedBatch` (LIME's form: a base row plus groups of columns switched
///   on, here the probe's column means plus every 0/1 mask of up to 4 column groups of the first
///   probe row's difference from them) scored directly agrees with its rows written out, and
///   the probe rounded to 8-bit levels agrees as `PixelRows` and as `Double` rows, within
///   `options.scoringPathTolerance`.
/// - `round trip`: the model file (`archive().encoded()`) read back by `ClassifierFile.decode`
///   is the same kind and type with the same class names and feature count, gives the same
///   probability bits and decisions on `probe`, and encodes to the same bytes.
/// - `seed determinism`: a second fit with the same seed has an equal archive and the same
///   probability bits.
/// - `class order`: a fit on the dataset with its class indices rotated (class c becomes
///   c + 1 mod k, names moved with them) has the rotated `classNames` and decides every probe row
///   whose top two probabilities differ as the same class name; with
///   `options.relabelProbabilityTolerance`, the rotated probability columns agree too.
///
/// - Parameters:
///   - data: A small training set with at least two classes (the relabelling needs them).
///   - probe: Rows to score (by default `data`'s rows); its class names are not used.
///   - seed: The seed of every fit.
///   - rule: The rule `predict` must follow.
///   - fit: Trains a model from a dataset and a seed (same inputs, same model).
/// - Returns: The checks run and any failure; a fit that throws is rethrown.
public func checkClassifier<Model: Classifier>(
  data: Dataset, probe: Dataset? = nil, seed: UInt64 = 0,
  options: ClassifierCheckOptions = ClassifierCheckOptions(),
  rule: ClassifierDecisionRule<Model> = .argmaxOfProbabilities,
  fit: (Dataset, UInt64) throws -> Model
) throws -> ClassifierCheckReport {
  precondition(data.classNames.count >= 2, "checkClassifier needs at least two classes")
  precondition((probe ?? data).count >= 1, "checkClassifier needs at least one probe row")
  let model = try fit(data, seed)
  let features = (probe ?? data).features
  let rows = features.rows
  let classes = data.classNames.count
  var report = ClassifierCheckReport(kind: Model.kind)
  let probabilities = model.predictProbabilities(features)
  let decisions = model.predict(features)

  report.run("fit") { failures in
    if model.classNames != data.classNames {
      failures.append("classNames \(model.classNames) != the dataset's \(data.classNames)")
    }
    if model.featureCount != data.featureCount {
      failures.append("featureCount \(model.featureCount) != the dataset's \(data.featureCount)")
    }
    if probabilities.rows != rows || probabilities.columns != classes {
      failures.append(
        "probabilities are [\(probabilities.rows), \(probabilities.columns)], expected [\(rows), \(classes)]"
      )
    }
    if decisions.count != rows {
      failures.append("predict gave \(decisions.count) decisions for \(rows) rows")
    }
  }
  // The other checks index the probabilities: stop when their shape is wrong.
  guard report.passed else { return report }

  var largestSumError = 0.0
  report.run("probabilities") { failures in
    for row in 0..<rows {
      let values = Array(probabilities.row(row))
      if let bad = values.firstIndex(where: { !$0.isFinite || $0 < 0 || $0 > 1 }) {
        failures.append("row \(row), class \(bad): \(values[bad]) is not a probability")
      }
      let sum = values.reduce(0, +)
      largestSumError = max(largestSumError, abs(sum - 1))
      if !(abs(sum - 1) <= options.sumTolerance) {
        failures.append(
          "row \(row) sums to \(sum) (|Σ − 1| = \(abs(sum - 1)) > \(options.sumTolerance))")
      }
    }
  }

  report.measurements.append("largest |Σ row − 1| \(largestSumError)")

  report.run("decision rule (\(rule.name))") { failures in
    let expected = rule.decide(model, features)
    for row in 0..<rows where decisions[row] != expected[row] {
      failures.append("row \(row): predict gave \(decisions[row]), the rule \(expected[row])")
    }
    if let bad = decisions.first(where: { !(0..<classes).contains($0) }) {
      failures.append("predict gave class index \(bad), outside 0..<\(classes)")
    }
  }

  report.run("empty batch") { failures in
    let empty = Matrix(rows: 0, columns: model.featureCount)
    let none = model.predictProbabilities(empty)
    if none.rows != 0 || none.columns != classes {
      failures.append("0 rows gave [\(none.rows), \(none.columns)], expected [0, \(classes)]")
    }
    if !model.predict(empty).isEmpty { failures.append("0 rows gave decisions") }
  }

  report.run("feature count") { failures in
    do {
      try model.checkFeatures(features)
    } catch {
      failures.append("checkFeatures refused the model's own \(features.columns) columns: \(error)")
    }
    let wider = Matrix(rows: 1, columns: model.featureCount + 1)
    do throws(ModelError) {
      try model.checkFeatures(wider)
      failures.append("checkFeatures accepted \(wider.columns) columns for \(model.featureCount)")
    } catch {
      let expected = ModelError.featureCountMismatch(
        model: model.featureCount, data: model.featureCount + 1)
      if error != expected { failures.append("checkFeatures threw \(error), expected \(expected)") }
    }
  }

  var largestBatchDifference = 0.0
  report.run("batching") { failures in
    func compare(_ label: String, _ got: Matrix, _ gotDecisions: [Int], rowsOfBatch: [Int]) {
      for (position, row) in rowsOfBatch.enumerated() {
        let difference = maxAbsoluteDifference(
          Array(got.row(position)), Array(probabilities.row(row)))
        largestBatchDifference = max(largestBatchDifference, difference)
        if !(difference <= options.batchTolerance) {
          failures.append(
            "\(label): row \(row) differs from the full batch by \(difference) > \(options.batchTolerance)"
          )
        }
        if gotDecisions[position] != decisions[row] {
          failures.append(
            "\(label): row \(row) decided \(gotDecisions[position]), in the full batch \(decisions[row])"
          )
        }
      }
    }
    for row in Set([0, rows / 2, rows - 1]).sorted() where row >= 0 {
      let single = features.selectingRows([row])
      compare(
        "alone", model.predictProbabilities(single), model.predict(single), rowsOfBatch: [row])
    }
    let reversedRows = Array((0..<rows).reversed())
    let reversed = features.selectingRows(reversedRows)
    compare(
      "reversed order", model.predictProbabilities(reversed), model.predict(reversed),
      rowsOfBatch: reversedRows)
  }

  report.measurements.append("largest batching difference \(largestBatchDifference)")

  var largestPathDifference = 0.0
  report.run("scoring paths") { failures in
    let width = features.columns
    let groupCount = min(4, width)
    let base = (0..<width).map { column in
      (0..<rows).reduce(0.0) { $0 + features[$1, column] } / Double(rows)
    }
    let delta = (0..<width).map { features[0, $0] - base[$0] }
    let masks = 1 << groupCount
    let coefficients = Matrix(rows: masks, columns: groupCount) { mask, group in
      Double((mask >> group) & 1)
    }
    let batch = MaskedBatch(
      base: base, delta: delta, groups: (0..<width).map { Int32($0 % groupCount) },
      groupCount: groupCount, coefficients: coefficients)
    let direct = model.predictProbabilities(batch)
    let written = model.predictProbabilities(batch.materialized())
    if direct.rows != masks || direct.columns != classes {
      failures.append("a masked batch of \(masks) rows gave [\(direct.rows), \(direct.columns)]")
    } else {
      let difference = maxAbsoluteDifference(direct.storage, written.storage)
      largestPathDifference = max(largestPathDifference, difference)
      if !(difference <= options.scoringPathTolerance) {
        failures.append(
          "a masked batch differs from its rows written out by \(difference) > \(options.scoringPathTolerance)"
        )
      }
    }

    let levels = Matrix(rows: rows, columns: width) { row, column in
      (min(max(features[row, column], 0), 1) * 255).rounded() / 255
    }
    guard let codes = PixelRows(exactly: levels) else {
      failures.append("the probe rounded to 8-bit levels is not exact in 8 bits")
      return
    }
    let fromCodes = model.predictProbabilities(codes)
    let fromDoubles = model.predictProbabilities(levels)
    let difference = maxAbsoluteDifference(fromCodes.storage, fromDoubles.storage)
    largestPathDifference = max(largestPathDifference, difference)
    if fromCodes.rows != rows || fromCodes.columns != classes {
      failures.append("8-bit rows gave [\(fromCodes.rows), \(fromCodes.columns)]")
    } else if !(difference <= options.scoringPathTolerance) {
      failures.append(
        "8-bit rows differ from the same rows as Double by \(difference) > \(options.scoringPathTolerance)"
      )
    }
  }
  report.measurements.append("largest scoring-path difference \(largestPathDifference)")

  report.run("round trip") { failures in
    let bytes = model.archive().encoded()
    let loaded: any Classifier
    let archive: ModelArchive
    do {
      (loaded, archive) = try ClassifierFile.decode(bytes)
    } catch {
      failures.append("ClassifierFile.decode refused the model's own file: \(error)")
      return
    }
    if archive.kind != Model.kind {
      failures.append("the file's kind is \(archive.kind), the model's \(Model.kind)")
    }
    guard let typed = loaded as? Model else {
      failures.append("the file decodes to \(type(of: loaded)), not \(Model.self)")
      return
    }
    if typed.classNames != model.classNames || typed.featureCount != model.featureCount {
      failures.append(
        "loaded classNames \(typed.classNames) and featureCount \(typed.featureCount) differ")
    }
    if typed.predictProbabilities(features) != probabilities {
      failures.append("the loaded model's probabilities are not the same bits")
    }
    if typed.predict(features) != decisions {
      failures.append("the loaded model's decisions differ")
    }
    if typed.archive().encoded() != bytes {
      failures.append("the loaded model encodes to other bytes")
    }
  }

  let again = try fit(data, seed)
  report.run("seed determinism") { failures in
    if again.archive() != model.archive() {
      failures.append("two fits with seed \(seed) have different archives")
    }
    if again.predictProbabilities(features) != probabilities {
      failures.append("two fits with seed \(seed) give different probability bits")
    }
  }

  // Class c becomes class (c + 1) mod k; its name moves with it.
  let moved = (0..<classes).map { ($0 + 1) % classes }
  var rotatedNames = data.classNames
  for c in 0..<classes { rotatedNames[moved[c]] = data.classNames[c] }
  let relabelled = data.relabelled(data.labels.map { moved[$0] }, classNames: rotatedNames)
  let rotated = try fit(relabelled, seed)
  var compared = 0
  var largestRelabelDifference = 0.0
  report.run("class order") { failures in
    if rotated.classNames != rotatedNames {
      failures.append(
        "classNames \(rotated.classNames) != the relabelled dataset's \(rotatedNames)")
      return
    }
    let rotatedProbabilities = rotated.predictProbabilities(features)
    let rotatedDecisions = rotated.predict(features)
    for row in 0..<rows {
      let sorted = probabilities.row(row).sorted(by: >)
      guard sorted[0] > sorted[1] else { continue }
      compared += 1
      let before = data.classNames[decisions[row]]
      let after = rotatedNames[rotatedDecisions[row]]
      if before != after {
        failures.append("row \(row) is \(before), after relabelling \(after)")
      }
    }
    if compared == 0 { failures.append("every probe row is a tie: nothing compared") }
    for row in 0..<rows {
      for c in 0..<classes {
        largestRelabelDifference = max(
          largestRelabelDifference, abs(rotatedProbabilities[row, moved[c]] - probabilities[row, c])
        )
      }
    }
    if let tolerance = options.relabelProbabilityTolerance {
      let largest = largestRelabelDifference
      if !(largest <= tolerance) {
        failures.append(
          "relabelled probability columns differ from the original ones by \(largest) > \(tolerance)"
        )
      }
    }
  }
  report.measurements.append(
    "class order: \(compared) of \(rows) rows compared; relabelled probabilities differ by up to "
      + "\(largestRelabelDifference)")
  return report
}

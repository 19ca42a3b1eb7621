import ArgumentParser
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseValuation

/// `glimpse clean TRAIN --values values.csv --test TEST --out cleaned.csv`.
struct CleanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "clean",
    abstract: "Drop low-valued training points, retrain, and compare test accuracy before and after.",
    discussion: """
      Reads TRAIN and its values (from `glimpse value`, one row per training point, same order), \
      drops the points whose value is below --threshold (0: the points that hurt), retrains \
      --model on all points and on the kept ones, and reports accuracy on the test set (--test, or \
      the test rows of --split after --validation-rows, which no valuation saw). Writes the kept \
      points as a CSV table with a label column, which every command reads.
      """)

  @OptionGroup var data: ValuationDataOptions

  @Option(help: "The values file (index,source,label,value,...).")
  var values: String

  @Option(help: "Drop points valued below this.")
  var threshold = 0.0

  @OptionGroup var model: ValuationModelOptions

  @Option(help: "Where to write the cleaned training set (CSV with a label column).")
  var out: String

  func run() throws {
    let sets = try data.load(needValidation: false, needTest: true)
    guard let test = sets.heldOut else { preconditionFailure("load(needTest:) returns a test set") }
    let training = sets.training
    let values = try ValuesFile.readValues(self.values, count: training.count)
    let kept = training.labels.indices.filter { values[$0] >= threshold }
    let dropped = training.count - kept.count
    guard kept.count >= 2, Set(kept.map { training.labels[$0] }).count >= 2 else {
      throw CommandFailure(message: "\(self.values): only \(kept.count) points have values ≥ \(threshold); nothing left to train on", status: 64)
    }
    let cleaned = training.subset(kept)
    BLAS.setThreadCount(1)
    let before = try accuracy(training, on: test)
    let after = try accuracy(cleaned, on: test)
    print("clean: dropped \(dropped) of \(training.count) training points valued below \(threshold)")
    if let flipped = sets.flipped {
      let droppedFlipped = training.labels.indices.filter { values[$0] < threshold && flipped[$0] }.count
      print("  of them flipped: \(droppedFlipped) (of \(flipped.count { $0 }) flipped in all)")
    }
    print("  \(model.model.rawValue) test accuracy on \(test.count) rows: \(formatFixed(before, digits: 3)) with all points → \(formatFixed(after, digits: 3)) cleaned (\(after >= before ? "+" : "")\(formatFixed((after - before) * 100, digits: 1)) points)")
    let header = (0..<cleaned.featureCount).map { "f\($0)" } + ["label"]
    let rows = (0..<cleaned.count).map { row in
      cleaned.features.row(row).map { String($0) } + [cleaned.classNames[cleaned.labels[row]]]
    }
    try AtomicFile.write(CSVWriter.text(header: header, rows: rows), to: out)
    print("  wrote \(out) (\(cleaned.count) rows)")
  }

  private func accuracy(_ training: Dataset, on test: Dataset) throws -> Double {
    guard let accuracy = try model.withLearner(training: training, validation: test, TestAccuracy()) else {
      throw CommandFailure(
        message: "\(data.dataOptions.data): --model \(model.model.rawValue) could not be trained on \(training.count) points",
        status: ExitStatus.badInput)
    }
    return accuracy
  }

  /// Accuracy on the validation (here: test) rows of the learner trained on every point; nil
  /// when it cannot be trained.
  private struct TestAccuracy: LearnerBody {
    func run<L: Learner>(_ learner: L) -> Double? {
      guard let model = learner.fit(Array(0..<learner.trainingCount), warmStart: nil) else { return nil }
      return ValidationScore.accuracy.score(learner.predictions(of: model), truth: learner.validationLabels)
    }
  }
}

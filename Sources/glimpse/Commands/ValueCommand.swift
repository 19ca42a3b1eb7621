import ArgumentParser
import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseModels
import GlimpseValuation
import Synchronization

/// `glimpse value`: data values of every training point (and `glimpse value merge`).
struct ValueCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "value",
    abstract: "Value every training point: which ones help the model, which ones hurt it.",
    subcommands: [ValueRunCommand.self, ValueMergeCommand.self],
    defaultSubcommand: ValueRunCommand.self)
}

enum ValuationMethodName: String, CaseIterable, ExpressibleByArgument {
  case tmc, loo, knn, classwise, banzhaf, exact
}

extension ValidationScore: ExpressibleByArgument {}

/// `glimpse value TRAIN --valid VALID --method tmc --model logistic --out values.csv`.
struct ValueRunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Compute data values (the default subcommand of value).",
    discussion: """
      Methods: tmc (truncated Monte Carlo Shapley, Ghorbani & Zou 2019), loo (leave-one-out), \
      knn (exact KNN-Shapley, Jia et al. 2019; needs no model fits), classwise (Schoch et al. \
      2022, as pyDVL), banzhaf (maximum-sample-reuse Banzhaf, Wang & Jia 2023), exact \
      (enumeration, at most 20 points). The utility of a subset is the validation score of \
      --model trained on it; subsets with fewer than two classes score --untrainable-value.
      Monte Carlo methods stop at --samples (permutations or subsets), or earlier by \
      --max-stderr, --rank-tolerance or --seconds, whichever comes first. They save a \
      checkpoint every few seconds (--checkpoint, default OUT.checkpoint.json); --resume \
      continues it, and a budgeted run gives the same values however often it was resumed. \
      --shard k/n computes every n-th sample; `glimpse value merge` adds the shards' \
      checkpoints up to exactly the single-process values.
      Output: a CSV with index,source,label,value,stderr,samples (index = row among the \
      valued points).
      """)

  @OptionGroup var data: ValuationDataOptions

  @Option(help: "tmc, loo, knn, classwise, banzhaf or exact.")
  var method: ValuationMethodName = .tmc

  @OptionGroup var modelOptions: ValuationModelOptions

  @Option(help: "Validation score: accuracy, balanced-accuracy or macro-f1.")
  var score: ValidationScore = .accuracy

  @Option(help: "Utility of subsets too small to train on (empty or a single class).")
  var untrainableValue = 0.0

  @Option(help: "Sample budget (tmc: permutations; banzhaf: subsets; classwise: permutations, all classes together). Default: tmc 100, banzhaf 2000, classwise 50 per class.")
  var samples: Int?

  @Option(help: "Stop once every point's standard error is at most this.")
  var maxStderr: Double?

  @Option(help: "Stop once the Spearman correlation of values 20 samples apart reaches 1 − this.")
  var rankTolerance: Double?

  @Option(help: "tmc, banzhaf, classwise: stop sampling after this many seconds (counting resumed runs), within one model fit.")
  var seconds: Double?

  @Option(help: "TMC truncation: relative tolerance to U(D); 0 turns truncation off.")
  var truncation = 0.01

  @Option(help: "TMC: fraction of each permutation walked before truncating.")
  var burnIn = 0.4

  @Option(help: "Seed for permutations and subsets.")
  var seed: UInt64 = 0

  @Option(help: "Worker threads (default: all cores; BLAS runs one thread per worker).")
  var threads: Int?

  @Option(help: ArgumentHelp("Compute shard k of n (0-based): every n-th sample.", valueName: "k/n"))
  var shard: String?

  @Option(help: "Checkpoint file (default: OUT.checkpoint.json).")
  var checkpoint: String?

  @Option(help: "Seconds between checkpoints (atomic writes of the finished samples).")
  var checkpointEvery = 5.0

  @Flag(help: "Continue from the checkpoint when there is one.")
  var resume = false

  @Option(help: "Where to write the values (CSV).")
  var out: String

  @Option(help: "Also draw the lowest- and highest-valued training images here (PNG).")
  var sheet: String?

  @Option(help: "Images per row of the data sheet (lowest and highest each).")
  var sheetCount = 10

  @Option(help: "Also draw the point-removal curve here (PNG): the valuation's model retrained without the lowest-, highest-valued or random points, scored on --test or the held-out rows of --split, else on the validation set.")
  var removalCurve: String?

  @Option(help: "The model family the removal curve retrains (default: the valuation's: --model, or knn with --k for --method knn).")
  var curveModel: ValuationModelName?

  func validate() throws {
    if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if truncation < 0 { throw ValidationError("--truncation must be ≥ 0") }
    if !(checkpointEvery > 0) { throw ValidationError("--checkpoint-every must be > 0 seconds") }
    if !(0...1).contains(burnIn) { throw ValidationError("--burn-in must lie in [0, 1]") }
    if let shard, parseShard(shard) == nil { throw ValidationError("--shard must be k/n with 0 ≤ k < n") }
    let monteCarlo: Set<ValuationMethodName> = [.tmc, .banzhaf, .classwise]
    if !monteCarlo.contains(method) && (shard != nil || resume) {
      throw ValidationError("--shard and --resume apply to tmc, banzhaf and classwise")
    }
    // loo, exact and knn compute every value in one pass and have no partial answer to stop
    // at; accepting --seconds and ignoring it ran them past the user's limit.
    if !monteCarlo.contains(method) && (seconds != nil || maxStderr != nil || rankTolerance != nil) {
      throw ValidationError("--seconds, --max-stderr and --rank-tolerance apply to tmc, banzhaf and classwise; \(method.rawValue) computes every value in one pass")
    }
    if let seconds, !(seconds > 0) { throw ValidationError("--seconds must be > 0") }
  }

  func run() throws {
    let sets = try data.load(needValidation: true)
    let training = sets.training
    print("valuing \(training.count) training points against \(sets.validation.count) validation points: \(method.rawValue), \(method == .knn ? "k=\(modelOptions.k)" : "\(modelOptions.model.rawValue) model")")
    let workers = threads ?? Parallelism.threadCount
    // Workers each train models; BLAS must not multiply the threads on top.
    BLAS.setThreadCount(1)
    let started = monotonicSeconds()
    let result: ValuationResult
    if method == .knn {
      let bar = SharedProgressBar(total: 1000, label: "knn-shapley")
      do {
        result = try KNNShapley(k: modelOptions.k).values(training: training, validation: sets.validation) {
          bar.update(Int($0 * 1000), detail: "")
        }
      } catch {
        throw CommandFailure(message: "\(data.dataOptions.data): \(error)", status: ExitStatus.badInput)
      }
      bar.finish()
    } else {
      result = try modelOptions.withLearner(
        training: training, validation: sets.validation, seed: seed,
        Valuing(command: self, sets: sets, workers: workers, started: started))
    }
    let elapsed = monotonicSeconds() - started
    try ValuesFile.write(result, training: training, to: out)
    ValuesFile.printSummary(result, training: training, seconds: elapsed, flipped: sets.flipped)
    print("  wrote \(out)")
    if let sheet {
      let png = try ValueFigures.sheet(
        result, training: training, dataPath: data.dataOptions.data, flipped: sets.flipped, cleanLabels: sets.cleanLabels, count: sheetCount,
        title: "Training data by value: \(data.dataOptions.stem)")
      try AtomicFile.write(png, to: sheet)
      print("  wrote \(sheet)")
    }
    if let removalCurve {
      BLAS.setThreadCount(1)
      let evaluation = sets.heldOut ?? sets.validation
      let name = sets.heldOut == nil ? "the \(evaluation.count) validation points" : "\(evaluation.count) held-out test rows"
      let curveModel = curveModelOptions
      print("  removal curve: \(curveModel.summary) retrained \(3 * ValueFigures.removalFractions.count) times on \(training.count) points less the removed ones")
      let (curves, png) = try ValueFigures.removalCurve(
        result, training: training, evaluation: evaluation, evaluationName: name, model: curveModel)
      try AtomicFile.write(png, to: removalCurve)
      let row = { (scores: [Double]) in scores.map { formatFixed($0, digits: 3) }.joined(separator: " ") }
      print("  removal (\(curves.fractions.map { "\(Int($0 * 100))%" }.joined(separator: " "))):")
      print("    lowest first  \(row(curves.lowestFirst))")
      print("    highest first \(row(curves.highestFirst))")
      print("    random        \(row(curves.random))")
      print("  wrote \(removalCurve)")
    }
  }

  /// The model the removal curve retrains: the valuation's own family and hyperparameters
  /// unless --curve-model names another. A k-NN valuation is checked with k-NN: retraining
  /// logistic regression for it cost minutes on colour images and judged values by a model
  /// they were not computed for.
  var curveModelOptions: ValuationModelOptions {
    var options = modelOptions
    options.model = curveModel ?? (method == .knn ? .knn : modelOptions.model)
    return options
  }

  /// The sample budget for this method.
  var budget: Int? {
    if let samples { return samples }
    let noOtherRule = maxStderr == nil && rankTolerance == nil && seconds == nil
    switch method {
    case .tmc: return noOtherRule ? 100 : nil
    case .banzhaf: return noOtherRule ? 2000 : nil
    case .classwise: return nil  // set from the class count below
    default: return nil
    }
  }

  func stoppingRule(classCount: Int) -> StoppingRule {
    var rules: [StoppingRule] = []
    if let limit = budget {
      rules.append(.maxSamples(limit))
    } else if method == .classwise && maxStderr == nil && rankTolerance == nil && seconds == nil {
      rules.append(.maxSamples(50 * classCount))
    }
    if let maxStderr { rules.append(.standardError(threshold: maxStderr, minimumSamples: 5)) }
    if let rankTolerance { rules.append(.rankStability(tolerance: rankTolerance, every: 20)) }
    if let seconds { rules.append(.wallClock(seconds: seconds)) }
    return rules.dropFirst().reduce(rules[0]) { $0 || $1 }
  }

  /// The values of `--method` with the utility of `--model`.
  private struct Valuing: LearnerBody {
    let command: ValueRunCommand
    let sets: ValuationDataOptions.Sets
    let workers: Int
    let started: Double

    func run<L: Learner>(_ learner: L) throws -> ValuationResult {
      try command.value(
        ModelUtility(learner, score: command.score, untrainableValue: command.untrainableValue),
        sets: sets, workers: workers, started: started)
    }
  }

  private func value<L: Learner>(
    _ utility: ModelUtility<L>, sets: ValuationDataOptions.Sets, workers: Int, started: Double
  ) throws -> ValuationResult {
    switch method {
    case .loo:
      return LeaveOneOut.values(utility)
    case .exact:
      do {
        return try ExactSemivalues.values(utility, kind: .shapley)
      } catch {
        throw CommandFailure(message: "\(data.dataOptions.data): \(error.description); use tmc or knn", status: 64)
      }
    case .knn:
      preconditionFailure("knn is handled without a model")
    case .tmc, .banzhaf, .classwise:
      return try monteCarlo(utility, sets: sets, workers: workers, started: started)
    }
  }

  private func monteCarlo<L: Learner>(
    _ utility: ModelUtility<L>, sets: ValuationDataOptions.Sets, workers: Int, started: Double
  ) throws -> ValuationResult {
    let training = sets.training
    let shardSpec = shard.flatMap(parseShard) ?? GlimpseValuation.Shard.whole
    let checkpointPath = checkpoint ?? "\(out).checkpoint.json"
    let fingerprint = jobFingerprint(sets)
    let classes = Set(training.labels).count
    var start: MonteCarloState?
    if resume, FileBytes.exists(checkpointPath) {
      let saved = try ValuationCheckpoint.read(checkpointPath)
      guard saved.state.fingerprint == fingerprint else {
        throw CommandFailure(
          message: "\(checkpointPath): the checkpoint belongs to another job (different data, method, model or seed)",
          status: ExitStatus.badInput)
      }
      guard saved.shard == shardSpec else {
        throw CommandFailure(message: "\(checkpointPath): the checkpoint is shard \(saved.shard.index)/\(saved.shard.count)", status: ExitStatus.badInput)
      }
      try saved.checkResumable(method: method.rawValue, pointCount: training.count, path: checkpointPath)
      start = saved.state
      print("  resuming \(checkpointPath): \(saved.state.completed.count) samples done")
    }
    let options = MonteCarloOptions(
      stopping: stoppingRule(classCount: classes), threads: workers, shard: shardSpec,
      checkpointInterval: checkpointEvery)
    var state = start ?? MonteCarloState(fingerprint: fingerprint, pointCount: training.count, channelCount: method == .banzhaf ? 2 : 1)
    // This run's preparation (the job's fingerprint, the learner) is work on the job too:
    // --seconds bounds the valuation as the user times it, not only its sampling.
    state.elapsedSeconds += monotonicSeconds() - started
    let wrapper = ValuationCheckpoint(
      method: method.rawValue, shard: shardSpec, sources: training.sources,
      labels: training.labels.map { training.classNames[$0] }, inClassScores: nil,
      state: state)
    let bar = SharedProgressBar(total: 1000, label: method.rawValue)
    let failure = Mutex<String?>(nil)
    let save: @Sendable (MonteCarloState) -> Void = { state in
      var file = wrapper
      file.state = state
      do { try file.write(checkpointPath) } catch { failure.withLock { $0 = "\(checkpointPath): \(error)" } }
    }
    let unit = method == .banzhaf ? "subsets" : "permutations"
    let report: @Sendable (MonteCarloProgress) -> Void = { progress in
      let fraction = progress.fractionDone ?? 0
      let stderr = progress.largestStandardError.isFinite ? formatFixed(progress.largestStandardError, digits: 4) : "–"
      let budget = progress.sampleBudget.map { "/\($0)" } ?? ""
      bar.update(Int(fraction * 1000), detail: "\(progress.samples)\(budget) \(unit), \(formatFixed(progress.rate, digits: 2))/s, max stderr \(stderr)")
    }
    let result: ValuationResult
    var final: MonteCarloState
    switch method {
    case .tmc:
      let tmc = TruncatedMonteCarloShapley(
        truncationTolerance: truncation > 0 ? truncation : nil, burnInFraction: burnIn, seed: seed)
      (result, final) = tmc.run(utility, from: wrapper.state, fingerprint: fingerprint, options: options, checkpoint: save, progress: report)
    case .banzhaf:
      (result, final) = MaximumSampleReuseBanzhaf(seed: seed).run(
        utility, from: wrapper.state, fingerprint: fingerprint, options: options, checkpoint: save, progress: report)
    default:
      (result, final) = ClasswiseShapley(seed: seed).run(
        utility, from: wrapper.state, fingerprint: fingerprint, options: options, checkpoint: save, progress: report)
    }
    bar.finish()
    if let message = failure.withLock({ $0 }) { throw CommandFailure(message: message, status: 74) }
    if method == .classwise {
      // Keep the normalisation's in-class scores with the checkpoint, so merges reproduce it.
      var file = wrapper
      file.state = final
      file.inClassScores = Dictionary(
        uniqueKeysWithValues: ClasswiseShapley.inClassScores(utility).map { (String($0.key), $0.value) })
      try file.write(checkpointPath)
    }
    print("  checkpoint \(checkpointPath) (\(final.completed.count) samples, status \(final.status?.rawValue ?? "?"))")
    if final.completed.count == 0, final.status == .timeLimit, let seconds {
      printError("glimpse: warning: no \(unit.dropLast()) finished within --seconds \(formatFixed(seconds, digits: 1)); every value is 0 (give more time, or --resume to continue)")
    }
    return result
  }

  /// What makes two runs the same job: everything that changes a sample's updates.
  private func jobFingerprint(_ sets: ValuationDataOptions.Sets) -> String {
    var bytes = Array("\(method.rawValue)|\(modelOptions.model.rawValue)|k\(modelOptions.k)|c\(modelOptions.c)|\(score.rawValue)|u\(untrainableValue)|t\(truncation)|b\(burnIn)|s\(seed)|".utf8)
    for set in [sets.training, sets.validation] {
      set.features.storage.withUnsafeBytes { bytes.append(contentsOf: $0) }
      bytes.append(contentsOf: set.labels.flatMap { Array(String($0).utf8) + [44] })
    }
    return String(SHA256.hexDigest(bytes).prefix(16))
  }
}

func parseShard(_ text: String) -> GlimpseValuation.Shard? {
  let parts = text.split(separator: "/")
  guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, index >= 0, index < count,
    count <= GlimpseValuation.Shard.maximumCount
  else { return nil }
  return GlimpseValuation.Shard(index: index, count: count)
}

/// A progress bar that worker threads may update.
final class SharedProgressBar: Sendable {
  private let bar: Mutex<UncheckedSendable<ProgressBar>>

  init(total: Int, label: String) { bar = Mutex(UncheckedSendable(ProgressBar(total: total, label: label))) }

  func update(_ done: Int, detail: String) { bar.withLock { $0.value.update(done, detail: detail) } }

  func finish() { bar.withLock { $0.value.finish() } }
}


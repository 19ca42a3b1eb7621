import ArgumentParser
import FoundationEssentials
import GlimpseCore
import GlimpseData
import GlimpseValuation
import Synchronization

/// `glimpse value TRAIN --valid VALID --method tmc --model logistic --out values.csv`.
struct ValueRunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Compute data values (the default subcommand of value).",
    discussion: """
      Methods: tmc (truncated Monte Carlo Shapley, Ghorbani & Zou 2019), beta (Beta(--alpha, \
      --beta) Shapley on tmc's permutations, Kwon & Zou 2022; default Beta(16, 1)), loo \
      (leave-one-out), knn (exact KNN-Shapley, Jia et al. 2019; needs no model fits), classwise \
      (Schoch et al. 2022, as pyDVL; --exhaustive enumerates every subset, at most 20 points), \
      banzhaf (maximum-sample-reuse Banzhaf, Wang & Jia 2023), data-oob (mean out-of-bag \
      accuracy over --bags bootstrap bags, Kwon & Zou 2023; default 800 bags), exact \
      (enumeration, at most 20 points; --semivalue shapley, banzhaf or beta).
      The utility of a subset is the validation score of --model trained on it. The empty set \
      scores --untrainable-value; so does a single-class subset for logistic and svm, which \
      cannot fit one class. knn fits one class (every prediction is that class), so its \
      single-class subsets are scored as trained.
      Monte Carlo methods stop at --samples (permutations, subsets or bags), or earlier by \
      --max-stderr, --rank-tolerance or --seconds, whichever comes first. They save a \
      checkpoint every few seconds (--checkpoint, default OUT.checkpoint.json); --resume \
      continues it, and a budgeted run gives the same values however often it was resumed. \
      --shard k/n computes every n-th sample; `glimpse value merge` adds the shards' \
      checkpoints up to exactly the single-process values.
      --embed MODEL values images on a CNN's embeddings (the penultimate activations, as glimpse \
      embed writes them), computed in memory for every set: `value FOLDER --valid VFOLDER \
      --embed cnn.glimpse --method knn` is `glimpse embed` twice and `value` in one command, \
      with the same values. --flipped FILE names the training points known to be mislabelled \
      (one source or file name a line), so the detection ROC AUC is printed.
      Output: a CSV with index,source,label,value,stderr,samples (index = row among the \
      valued points).
      """)

  @OptionGroup var data: ValuationDataOptions

  @OptionGroup var embedding: ValuationEmbedOptions

  @Option(help: "tmc, beta, loo, knn, classwise, banzhaf, data-oob or exact.")
  var method: ValuationMethod = .tmc

  @Option(help: "exact: the semivalue enumerated, shapley, banzhaf or beta (with --alpha, --beta).")
  var semivalue: SemivalueName = .shapley

  @Option(help: "beta (and exact --semivalue beta): α of the Beta(α, β) weights.")
  var alpha = 16.0

  @Option(help: "beta (and exact --semivalue beta): β of the Beta(α, β) weights.")
  var beta = 1.0

  @Option(help: "data-oob: bootstrap bags (the sample budget, as --samples). Default 800.")
  var bags: Int?

  @Flag(help: "classwise: enumerate every subset (at most 20 points) instead of sampling.")
  var exhaustive = false

  @OptionGroup var modelOptions: ValuationModelOptions

  @Option(help: "Validation score: accuracy, balanced-accuracy or macro-f1.")
  var score: ValidationScore = .accuracy

  @Option(
    help: "Utility of subsets too small to train on: the empty set; one class for logistic, svm.")
  var untrainableValue = 0.0

  @Option(
    help:
      "Sample budget (tmc, beta: permutations; banzhaf: subsets; classwise: permutations, all classes together; data-oob: bags). Default: tmc and beta 100, banzhaf 2000, classwise 50 per class, data-oob 800."
  )
  var samples: Int?

  @Option(help: "Stop once every point's standard error is at most this.")
  var maxStderr: Double?

  @Option(help: "Stop once the Spearman correlation of values 20 samples apart reaches 1 − this.")
  var rankTolerance: Double?

  @Option(
    help:
      "Sampled methods: stop sampling after this many seconds (counting resumed runs), within one model fit."
  )
  var seconds: Double?

  @Option(help: "TMC truncation: relative tolerance to U(D); 0 turns truncation off.")
  var truncation = 0.01

  @Option(help: "TMC: fraction of each permutation walked before truncating.")
  var burnIn = 0.4

  @Option(help: "Seed for permutations and subsets.")
  var seed: UInt64 = 0

  @Option(help: "Worker threads (default: all cores; BLAS runs one thread per worker).")
  var threads: Int?

  @Option(
    help: ArgumentHelp("Compute shard k of n (0-based): every n-th sample.", valueName: "k/n"))
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

  @Option(
    help:
      "Also draw the point-removal curve here (PNG): the valuation's model retrained without the lowest-, highest-valued or random points, scored on --test or the held-out rows of --split, else on the validation set."
  )
  var removalCurve: String?

  @Option(
    help:
      "The model family the removal curve retrains (default: the valuation's: --model, or knn with --k for --method knn)."
  )
  var curveModel: LearnerFamily.Kind?

  func validate() throws {
    if let samples, samples < 1 { throw ValidationError("--samples must be at least 1") }
    if let bags {
      if method != .dataOOB { throw ValidationError("--bags applies to data-oob") }
      if samples != nil { throw ValidationError("give --bags or --samples, not both") }
      if bags < 1 { throw ValidationError("--bags must be at least 1") }
    }
    if semivalue != .shapley && method != .exact {
      throw ValidationError("--semivalue applies to exact")
    }
    if exhaustive && method != .classwise {
      throw ValidationError("--exhaustive applies to classwise")
    }
    if !(alpha > 0) || !(beta > 0) { throw ValidationError("--alpha and --beta must be > 0") }
    let sampled = job.isSampled
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if truncation < 0 { throw ValidationError("--truncation must be ≥ 0") }
    if !(checkpointEvery > 0) { throw ValidationError("--checkpoint-every must be > 0 seconds") }
    if !(0...1).contains(burnIn) { throw ValidationError("--burn-in must lie in [0, 1]") }
    if let shard, parseShard(shard) == nil {
      throw ValidationError("--shard must be k/n with 0 ≤ k < n")
    }
    if !sampled && (shard != nil || resume) {
      throw ValidationError(
        "--shard and --resume apply to tmc, beta, banzhaf, classwise and data-oob")
    }
    // loo, exact, knn and exhaustive classwise compute every value in one pass and have no
    // partial answer to stop at; accepting --seconds and ignoring it ran them past the limit.
    if !sampled && (seconds != nil || maxStderr != nil || rankTolerance != nil) {
      throw ValidationError(
        "--seconds, --max-stderr and --rank-tolerance apply to tmc, beta, banzhaf, classwise and data-oob; \(method.rawValue)\(exhaustive ? " --exhaustive" : "") computes every value in one pass"
      )
    }
    if let seconds, !(seconds > 0) { throw ValidationError("--seconds must be > 0") }
  }

  func run() throws {
    // Data-OOB scores each bag's model on the points it missed: no validation set enters it.
    let needsValidation = method != .dataOOB
    if !needsValidation && !data.givesValidation && removalCurve != nil {
      throw CommandFailure(
        message:
          "--removal-curve scores the retrained models on held-out points: give --valid, --test or --split",
        status: 64)
    }
    let images = try data.load(needValidation: needsValidation)
    let (sets, embeddingLine) = try embedding.apply(to: images, dataPath: data.dataOptions.data)
    if let embeddingLine { print(embeddingLine) }
    let training = sets.training
    let against =
      needsValidation || data.givesValidation
      ? "against \(sets.validation.count) validation points"
      : "out of bag (no validation set)"
    print(
      "valuing \(training.count) training points \(against): \(method.rawValue), \(method.retrainsModels ? "\(modelOptions.model.rawValue) model" : "k=\(modelOptions.k)")"
    )
    let started = monotonicSeconds()
    let job = self.job
    let sampled = job.isSampled
    let shardSpec = shard.flatMap(parseShard) ?? GlimpseValuation.Shard.whole
    let checkpointPath = checkpoint ?? "\(out).checkpoint.json"
    var resuming: MonteCarloState?
    if sampled, resume, FileBytes.exists(checkpointPath) {
      let saved = try ValuationCheckpoint.read(checkpointPath)
      resuming = try job.resumableState(
        from: saved, training: training, validation: sets.validation, shard: shardSpec,
        path: checkpointPath)
      print("  resuming \(checkpointPath): \(saved.state.completed.count) samples done")
    }
    let bar =
      sampled
      ? SharedProgressBar(total: 1000, label: method.rawValue)
      : method.retrainsModels ? nil : SharedProgressBar(total: 1000, label: "knn-shapley")
    let failure = Mutex<String?>(nil)
    let save: @Sendable (ValuationCheckpoint) -> Void = { file in
      do { try file.write(checkpointPath) } catch {
        failure.withLock { $0 = "\(checkpointPath): \(error)" }
      }
    }
    let unit = method.sampleUnit ?? ""
    let report: @Sendable (ValuationProgress) -> Void = { progress in
      switch progress {
      case .fractionDone(let fraction):
        bar?.update(Int(fraction * 1000), detail: "")
      case .sampling(let progress):
        let fraction = progress.fractionDone ?? 0
        let stderr =
          progress.largestStandardError.isFinite
          ? formatFixed(progress.largestStandardError, digits: 4) : "–"
        let budget = progress.sampleBudget.map { "/\($0)" } ?? ""
        bar?.update(
          Int(fraction * 1000),
          detail:
            "\(progress.samples)\(budget) \(unit), \(formatFixed(progress.rate, digits: 2))/s, max stderr \(stderr)"
        )
      }
    }
    let sampling = SamplingSettings(
      limits: StoppingLimits(
        samples: samples ?? bags, maxStandardError: maxStderr, rankTolerance: rankTolerance,
        seconds: seconds),
      threads: threads ?? Parallelism.threadCount, shard: shardSpec,
      checkpointInterval: checkpointEvery)
    let outcome: ValuationOutcome
    do {
      outcome = try job.run(
        training: training, validation: sets.validation, sampling: sampling, resuming: resuming,
        startedAt: started, checkpoint: save, progress: report)
    } catch {
      switch error {
      case .knnShapley(let error):
        throw CommandFailure(
          message: "\(data.dataOptions.data): \(error)", status: ExitStatus.badInput)
      case .exact(let error):
        throw CommandFailure(
          message: "\(data.dataOptions.data): \(error.description); use tmc or knn", status: 64)
      }
    }
    bar?.finish()
    let result = outcome.result
    if let final = outcome.state {
      if let message = failure.withLock({ $0 }) {
        throw CommandFailure(message: message, status: 74)
      }
      print(
        "  checkpoint \(checkpointPath) (\(final.completed.count) samples, status \(final.status?.rawValue ?? "?"))"
      )
      if final.completed.count == 0, final.status == .timeLimit, let seconds {
        printError(
          "glimpse: warning: no \(unit.dropLast()) finished within --seconds \(formatFixed(seconds, digits: 1)); every value is 0 (give more time, or --resume to continue)"
        )
      }
    }
    let elapsed = monotonicSeconds() - started
    try ValuesFile.write(result, training: training, to: out)
    ValuesFile.printSummary(result, training: training, seconds: elapsed, flipped: sets.flipped)
    print("  wrote \(out)")
    if let sheet {
      // The sheet draws the images, also when the values came from their embeddings.
      let png = try ValueFigures.sheet(
        result, training: images.training, dataPath: data.dataOptions.data, flipped: sets.flipped,
        cleanLabels: sets.cleanLabels, count: sheetCount,
        title: "Training data by value: \(data.dataOptions.stem)")
      try AtomicFile.write(png, to: sheet)
      print("  wrote \(sheet)")
    }
    if let removalCurve {
      let evaluation = sets.heldOut ?? sets.validation
      let name =
        sets.heldOut == nil
        ? "the \(evaluation.count) validation points" : "\(evaluation.count) held-out test rows"
      let curveModel = curveFamily
      print(
        "  removal curve: \(curveModel.summary) retrained \(3 * PointRemovalCurves.standardFractions.count) times on \(training.count) points less the removed ones"
      )
      let (curves, png) = try ValueFigures.removalCurve(
        result, training: training, evaluation: evaluation, evaluationName: name, model: curveModel)
      try AtomicFile.write(png, to: removalCurve)
      let row = { (scores: [Double]) in
        scores.map { formatFixed($0, digits: 3) }.joined(separator: " ")
      }
      print("  removal (\(curves.fractions.map { "\(Int($0 * 100))%" }.joined(separator: " "))):")
      print("    lowest first  \(row(curves.lowestFirst))")
      print("    highest first \(row(curves.highestFirst))")
      print("    random        \(row(curves.random))")
      print("  wrote \(removalCurve)")
    }
  }

  /// The model the removal curve retrains (`ValuationJob.retrainedModel(override:)`).
  var curveFamily: LearnerFamily { job.retrainedModel(override: curveModel) }

  /// The valuation these options ask for.
  var job: ValuationJob {
    var job = ValuationJob(
      method: method, model: modelOptions.family, score: score, untrainableValue: untrainableValue,
      truncation: truncation, burnIn: burnIn, seed: seed)
    job.exactSemivalue = semivalue.kind(alpha: alpha, beta: beta)
    job.betaWeights = BetaSemivalue(alpha: alpha, beta: beta)
    job.exhaustive = exhaustive
    return job
  }
}

/// `k/n` as a shard, or `nil` when it is not one (`0 ≤ k < n ≤ Shard.maximumCount`).
func parseShard(_ text: String) -> GlimpseValuation.Shard? {
  let parts = text.split(separator: "/")
  guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1,
    index >= 0, index < count,
    count <= GlimpseValuation.Shard.maximumCount
  else { return nil }
  return GlimpseValuation.Shard(index: index, count: count)
}

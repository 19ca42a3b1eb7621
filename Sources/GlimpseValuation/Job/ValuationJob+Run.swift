import GlimpseCore

// Implementation notes
// 1. The checkpoints handed to `checkpoint` are the file format `glimpse value` has always
//    written (`ValuationCheckpoint`): keep their fields and order, or old checkpoints stop being
//    resumable and merges of old shards break.
// 2. OpenBLAS runs one thread for the whole run: workers each train models, and BLAS must not
//    multiply the threads on top (a scoped pin, so the caller's count comes back).

extension ValuationJob {
  /// The state to continue from `saved`, a checkpoint read from `path`, once it is known to be
  /// of this job on these sets and of `shard`.
  ///
  /// - Throws: `FileContentError` naming `path` when the checkpoint belongs to another job
  ///   (its fingerprint differs), another shard, another method, or another point count.
  public func resumableState(
    from saved: ValuationCheckpoint, training: Dataset, validation: Dataset, shard: Shard,
    path: String
  ) throws -> MonteCarloState {
    guard saved.state.fingerprint == fingerprint(training: training, validation: validation) else {
      throw FileContentError(
        path: path,
        reason: "the checkpoint belongs to another job (different data, method, model or seed)")
    }
    guard saved.shard == shard else {
      throw FileContentError(
        path: path, reason: "the checkpoint is shard \(saved.shard.index)/\(saved.shard.count)")
    }
    try saved.checkResumable(method: method.rawValue, pointCount: training.count, path: path)
    return saved.state
  }

  /// Values every point of `training` against `validation`.
  ///
  /// One-pass methods (LOO, KNN-Shapley, exact, exhaustive classwise) compute every value and
  /// report fractions done; sampled methods (TMC, Beta, Banzhaf, classwise, Data-OOB) sample until `sampling.limits` stop them,
  /// reporting `MonteCarloProgress` and handing a checkpoint to `checkpoint` every
  /// `sampling.checkpointInterval` seconds and at the end (classwise once more with the in-class
  /// scores its normalisation needs, so merges of shards reproduce it).
  ///
  /// - Parameters:
  ///   - resuming: A state from `resumableState(from:training:validation:shard:path:)` to
  ///     continue; a budgeted run gives the same values however often it was resumed.
  ///   - startedAt: When work on this run began (`monotonicSeconds()`): the preparation counts
  ///     towards a time limit, as the user times the valuation.
  ///   - checkpoint: Called from worker threads with each checkpoint to save.
  ///   - progress: Called from worker threads.
  /// - Throws: `ValuationRunError` when KNN-Shapley or exact enumeration refuse the data.
  public func run(
    training: Dataset, validation: Dataset, sampling: SamplingSettings = SamplingSettings(),
    resuming: MonteCarloState? = nil, startedAt: Double = monotonicSeconds(),
    checkpoint: @escaping @Sendable (ValuationCheckpoint) -> Void = { _ in },
    progress: @escaping @Sendable (ValuationProgress) -> Void = { _ in }
  ) throws(ValuationRunError) -> ValuationOutcome {
    let body = RunBody(
      job: self, training: training, validation: validation, sampling: sampling,
      resuming: resuming, startedAt: startedAt, checkpoint: checkpoint, progress: progress)
    // `withSingleThreadedBLAS` rethrows untyped errors: carry the typed one through a Result.
    let outcome = withSingleThreadedBLAS { () -> Result<ValuationOutcome, ValuationRunError> in
      do throws(ValuationRunError) {
        return .success(try body.runWithModel())
      } catch {
        return .failure(error)
      }
    }
    return try outcome.get()
  }

  /// The run with the learner of the job's model family.
  private struct RunBody: LearnerBody {
    let job: ValuationJob
    let training: Dataset
    let validation: Dataset
    let sampling: SamplingSettings
    let resuming: MonteCarloState?
    let startedAt: Double
    let checkpoint: @Sendable (ValuationCheckpoint) -> Void
    let progress: @Sendable (ValuationProgress) -> Void

    /// KNN-Shapley directly (it needs no model), the other methods with the job's learner.
    func runWithModel() throws(ValuationRunError) -> ValuationOutcome {
      guard job.method.retrainsModels else {
        do throws(KNNShapleyError) {
          let result = try KNNShapley(k: job.model.k).values(
            training: training, validation: validation
          ) { progress(.fractionDone($0)) }
          return ValuationOutcome(result: result, state: nil)
        } catch {
          throw .knnShapley(error)
        }
      }
      return try job.model.withLearner(
        training: training, validation: validation, seed: job.seed, self)
    }

    func run<L: Learner>(_ learner: L) throws(ValuationRunError) -> ValuationOutcome {
      let utility = ModelUtility(learner, score: job.score, untrainableValue: job.untrainableValue)
      switch job.method {
      case .loo:
        return ValuationOutcome(result: LeaveOneOut.values(utility), state: nil)
      case .exact:
        do throws(ValuationError) {
          return ValuationOutcome(
            result: try ExactSemivalues.values(utility, kind: job.exactSemivalue), state: nil)
        } catch {
          throw .exact(error)
        }
      case .classwise where job.exhaustive:
        do throws(ValuationError) {
          return ValuationOutcome(result: try ClasswiseShapley.exhaustive(utility), state: nil)
        } catch {
          throw .exact(error)
        }
      case .knn:
        preconditionFailure("knn is valued without a model")
      case .tmc, .banzhaf, .classwise, .beta, .dataOOB:
        return sample(utility)
      }
    }

    private func sample<L: Learner>(_ utility: ModelUtility<L>) -> ValuationOutcome {
      let method = job.method
      let fingerprint =
        resuming?.fingerprint ?? job.fingerprint(training: training, validation: validation)
      let classCount = Set(training.labels).count
      guard let stopping = job.stoppingRule(sampling.limits, classCount: classCount) else {
        preconditionFailure("a sampled method always has a stopping rule")
      }
      let options = MonteCarloOptions(
        stopping: stopping, threads: sampling.threads, shard: sampling.shard,
        checkpointInterval: sampling.checkpointInterval)
      var state =
        resuming
        ?? MonteCarloState(
          fingerprint: fingerprint, pointCount: training.count, channelCount: method.channelCount)
      state.elapsedSeconds += monotonicSeconds() - startedAt
      let wrapper = ValuationCheckpoint(
        method: method.rawValue, shard: sampling.shard, sources: training.sources,
        labels: training.labels.map { training.classNames[$0] }, inClassScores: nil, state: state)
      let checkpoint = checkpoint
      let save: @Sendable (MonteCarloState) -> Void = { state in
        var file = wrapper
        file.state = state
        checkpoint(file)
      }
      let progress = progress
      let report: @Sendable (MonteCarloProgress) -> Void = { progress(.sampling($0)) }
      let result: ValuationResult
      let final: MonteCarloState
      switch method {
      case .tmc:
        let tmc = TruncatedMonteCarloShapley(
          truncationTolerance: job.truncation > 0 ? job.truncation : nil,
          burnInFraction: job.burnIn, seed: job.seed)
        (result, final) = tmc.run(
          utility, from: wrapper.state, fingerprint: fingerprint, options: options,
          checkpoint: save, progress: report)
      case .banzhaf:
        (result, final) = MaximumSampleReuseBanzhaf(seed: job.seed).run(
          utility, from: wrapper.state, fingerprint: fingerprint, options: options,
          checkpoint: save, progress: report)
      case .classwise:
        (result, final) = ClasswiseShapley(seed: job.seed).run(
          utility, from: wrapper.state, fingerprint: fingerprint, options: options,
          checkpoint: save, progress: report)
        var file = wrapper
        file.state = final
        file.inClassScores = Dictionary(
          uniqueKeysWithValues: ClasswiseShapley.inClassScores(utility).map {
            (String($0.key), $0.value)
          })
        checkpoint(file)
      case .beta:
        let walk = TruncatedMonteCarloShapley(
          truncationTolerance: job.truncation > 0 ? job.truncation : nil,
          burnInFraction: job.burnIn, seed: job.seed)
        (result, final) = BetaShapley(semivalue: job.betaWeights, walk: walk).run(
          utility, from: wrapper.state, fingerprint: fingerprint, options: options,
          checkpoint: save, progress: report)
      case .dataOOB:
        (result, final) = DataOutOfBag(seed: job.seed).run(
          model: job.model, training: training, from: wrapper.state, fingerprint: fingerprint,
          options: options, checkpoint: save, progress: report)
      case .loo, .knn, .exact:
        preconditionFailure("\(method.rawValue) is not sampled")
      }
      return ValuationOutcome(result: result, state: final)
    }
  }
}

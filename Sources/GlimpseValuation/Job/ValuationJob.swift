import GlimpseCore

/// One valuation as a user asks for it: the method, the utility (model family, score, value of
/// untrainable subsets) and the sampling settings that change a sample's updates.
///
/// Two runs with equal jobs on equal data compute the same samples, which is what the
/// `fingerprint(training:validation:)` stored in checkpoints captures, so that a resumed or
/// sharded run only continues its own job.
public struct ValuationJob: Sendable, Equatable {
  /// The valuation method.
  public var method: ValuationMethod
  /// The model family the utility retrains (KNN-Shapley uses only its `k`).
  public var model: LearnerFamily
  /// The validation score U(S) is.
  public var score: ValidationScore
  /// The utility of subsets too small to train on: the empty set, and a single class for the
  /// families that cannot fit one (`LearnerFamily.Kind.fitsSingleClass`).
  public var untrainableValue: Double
  /// TMC's relative truncation tolerance to U(D); 0 turns truncation off.
  public var truncation: Double
  /// TMC's fraction of each permutation walked before truncating.
  public var burnIn: Double
  /// The seed of permutations and subsets (and of the SVM's probability folds).
  public var seed: UInt64
  /// Which semivalue `exact` enumerates (Shapley by default).
  public var exactSemivalue: ExactSemivalues.Kind = .shapley
  /// The Beta(α, β) weights of `beta` (Beta(16, 1) by default, Kwon & Zou 2022).
  public var betaWeights = BetaSemivalue()
  /// Whether `classwise` enumerates every subset (`ClasswiseShapley.exhaustive`) instead of
  /// sampling.
  public var exhaustive = false

  /// A job; the defaults are those of `glimpse value`.
  public init(
    method: ValuationMethod, model: LearnerFamily = LearnerFamily(),
    score: ValidationScore = .accuracy, untrainableValue: Double = 0, truncation: Double = 0.01,
    burnIn: Double = 0.4, seed: UInt64 = 0
  ) {
    self.method = method
    self.model = model
    self.score = score
    self.untrainableValue = untrainableValue
    self.truncation = truncation
    self.burnIn = burnIn
    self.seed = seed
  }

  /// Whether the job samples (a sampled method, and not `classwise` enumerated exhaustively):
  /// it takes a stopping rule, shards, checkpoints and resumes.
  public var isSampled: Bool { method.isSampled && !(method == .classwise && exhaustive) }

  /// What makes two runs the same job: everything that changes a sample's updates, hashed.
  ///
  /// The first 16 hex digits of SHA-256 over `method|model|kK|cC|score|uU|tT|bB|sSEED|` (and
  /// `aALPHA|bBETA|` for `beta`), then
  /// per set (training, validation) the features' bytes and the labels as decimal text, each
  /// followed by a comma. Checkpoints store it; keep the bytes unchanged, or existing
  /// checkpoints stop being resumable.
  public func fingerprint(training: Dataset, validation: Dataset) -> String {
    var bytes = Array(
      "\(method.rawValue)|\(model.kind.rawValue)|k\(model.k)|c\(model.c)|\(score.rawValue)|u\(untrainableValue)|t\(truncation)|b\(burnIn)|s\(seed)|"
        .utf8)
    if method == .beta {
      bytes.append(contentsOf: Array("a\(betaWeights.alpha)|b\(betaWeights.beta)|".utf8))
    }
    for set in [training, validation] {
      set.features.storage.withUnsafeBytes { bytes.append(contentsOf: $0) }
      bytes.append(contentsOf: set.labels.flatMap { Array(String($0).utf8) + [44] })
    }
    return String(SHA256.hexDigest(bytes).prefix(16))
  }

  /// The stopping rule of a sampled method: the sample budget (`limits.samples`, else the
  /// method's default budget when no other limit is set), or'ed with the standard-error,
  /// rank-stability and wall-clock limits given. `nil` for the one-pass methods, which stop
  /// when every value is computed.
  public func stoppingRule(_ limits: StoppingLimits, classCount: Int) -> StoppingRule? {
    guard isSampled else { return nil }
    var rules: [StoppingRule] = []
    let noOtherRule =
      limits.maxStandardError == nil && limits.rankTolerance == nil && limits.seconds == nil
    if let budget = limits.samples
      ?? (noOtherRule ? method.defaultSampleBudget(classCount: classCount) : nil)
    {
      rules.append(.maxSamples(budget))
    }
    if let maxStandardError = limits.maxStandardError {
      rules.append(.standardError(threshold: maxStandardError, minimumSamples: 5))
    }
    if let rankTolerance = limits.rankTolerance {
      rules.append(.rankStability(tolerance: rankTolerance, every: 20))
    }
    if let seconds = limits.seconds { rules.append(.wallClock(seconds: seconds)) }
    guard let first = rules.first else { return nil }
    return rules.dropFirst().reduce(first) { $0 || $1 }
  }

  /// The model a removal curve or cleaning check retrains: `override` when given, else the
  /// job's own family, except that a KNN-Shapley job is checked with k-NN (retraining logistic
  /// regression for it cost minutes on colour images and judged values by a model they were not
  /// computed for).
  public func retrainedModel(override kind: LearnerFamily.Kind?) -> LearnerFamily {
    var family = model
    family.kind = kind ?? (method == .knn ? .knn : model.kind)
    return family
  }
}

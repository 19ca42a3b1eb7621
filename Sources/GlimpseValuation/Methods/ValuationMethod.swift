/// The valuation methods a `ValuationJob` runs, by the name their checkpoints and values files
/// carry.
///
/// Adding a method is one case here and its arms in the switches of this file and of
/// `ValuationJob+Run.swift`; the command line chooses a method once, by its raw value.
public enum ValuationMethod: String, Sendable, CaseIterable {
  /// Truncated Monte Carlo Shapley (Ghorbani & Zou 2019, "Data Shapley", Alg. 1):
  /// `TruncatedMonteCarloShapley`.
  case tmc
  /// Leave-one-out: U(D) − U(D ∖ {i}) (`LeaveOneOut`).
  case loo
  /// Exact KNN-Shapley (Jia et al. 2019, "Efficient Task-Specific Data Valuation for Nearest
  /// Neighbor Algorithms", Thm. 1): `KNNShapley`; needs no model fits.
  case knn
  /// Class-wise Shapley (Schoch, Xu & Ji 2022, "CS-Shapley"), as pyDVL: `ClasswiseShapley`.
  case classwise
  /// Data Banzhaf by maximum sample reuse (Wang & Jia 2023, "Data Banzhaf", Alg. 1):
  /// `MaximumSampleReuseBanzhaf`.
  case banzhaf
  /// Shapley values (or Banzhaf or Beta semivalues, `ValuationJob.exactSemivalue`) by
  /// enumerating every subset (at most 20 points): `ExactSemivalues`.
  case exact
  /// Beta Shapley by permutations (Kwon & Zou 2022, "Beta Shapley"): TMC's walk with the
  /// Beta(α, β) weight of each position (`BetaShapley`).
  case beta
  /// Data-OOB (Kwon & Zou 2023): mean out-of-bag accuracy on each point over bootstrap bags
  /// (`DataOutOfBag`); needs no validation set.
  case dataOOB = "data-oob"

  /// Whether the method estimates values from random samples (permutations or subsets), so it
  /// takes a stopping rule, shards, checkpoints and resumes; the others compute every value in
  /// one pass.
  public var isSampled: Bool {
    switch self {
    case .tmc, .banzhaf, .classwise, .beta, .dataOOB: true
    case .loo, .knn, .exact: false
    }
  }

  /// Whether the method retrains a model on subsets (all but KNN-Shapley, whose utility has a
  /// closed form).
  public var retrainsModels: Bool { self != .knn }

  /// What one sample is: `permutations` (TMC, Beta, classwise), `subsets` (Banzhaf) or `bags`
  /// (Data-OOB); `nil` for the one-pass methods.
  public var sampleUnit: String? {
    switch self {
    case .tmc, .classwise, .beta: "permutations"
    case .banzhaf: "subsets"
    case .dataOOB: "bags"
    case .loo, .knn, .exact: nil
    }
  }

  /// The accumulator channels of the method's Monte Carlo state: 2 for Banzhaf (utilities of
  /// samples with and without each point), 1 otherwise.
  public var channelCount: Int { self == .banzhaf ? 2 : 1 }

  /// The sample budget when the user sets no stopping rule: 100 permutations for TMC and Beta
  /// (pyDVL's examples), 2000 subsets for Banzhaf, 50 permutations per class for classwise
  /// (sampled round robin over classes), 800 bags for Data-OOB (Kwon & Zou 2023's B); `nil` for
  /// the one-pass methods.
  public func defaultSampleBudget(classCount: Int) -> Int? {
    switch self {
    case .tmc, .beta: 100
    case .dataOOB: 800
    case .banzhaf: 2000
    case .classwise: 50 * classCount
    case .loo, .knn, .exact: nil
    }
  }

  /// The values a Monte Carlo state of this method holds: plain means for TMC (and for the
  /// one-pass methods, which have no state), means with minus means without for Banzhaf, and
  /// classwise means rescaled per class to `inClassScores` (by class index).
  public func result(of state: MonteCarloState, inClassScores: [Int: Double]) -> ValuationResult {
    switch self {
    case .banzhaf: MaximumSampleReuseBanzhaf.result(state)
    case .classwise: ClasswiseShapley.result(state, inClassScores: inClassScores)
    case .beta: BetaShapley.result(state)
    case .dataOOB: DataOutOfBag.result(state)
    case .tmc, .loo, .knn, .exact: TruncatedMonteCarloShapley.result(state)
    }
  }
}

#if canImport(Glibc)
  import Glibc
#endif

/// How the learning rate changes over training, step by step (one step per mini-batch).
public enum LearningRateSchedule: Sendable, Codable, Equatable {
  /// The base rate throughout (Keras' and PyTorch's default).
  case constant
  /// Cosine annealing from the base rate to `final` × the base rate over all steps:
  /// `lr_t = lr · (f + (1 − f) · ½(1 + cos(π t / T)))`, t = 0 … T − 1.
  /// Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017,
  /// eq. (5), with a single cycle and no restart.
  case cosine(final: Double)
  /// The base rate times `factor` after every `epochs` epochs (PyTorch's `StepLR`).
  case stepDecay(epochs: Int, factor: Double)

  /// The names the command line uses.
  public enum Kind: String, Sendable, CaseIterable {
    case constant, cosine, step
  }

  /// The kind of schedule, without its parameters.
  public var kind: Kind {
    switch self {
    case .constant: .constant
    case .cosine: .cosine
    case .stepDecay: .step
    }
  }

  /// `kind` with Glimpse's parameters for a run of `epochs` epochs: cosine decays to 0 (the
  /// default recipes'); step multiplies the rate by 0.1 after each third of the epochs (at
  /// least one epoch per step): the two tenfold drops of He et al., "Deep Residual Learning
  /// for Image Recognition", CVPR 2016, §4.2 (there at ½ and ¾ of the run), spaced evenly.
  public init(_ kind: Kind, epochs: Int) {
    switch kind {
    case .constant: self = .constant
    case .cosine: self = .cosine(final: 0)
    case .step: self = .stepDecay(epochs: max(1, epochs / 3), factor: 0.1)
    }
  }

  /// The rate for step `step` (0-based) of `totalSteps`, in epoch `epoch` (0-based).
  public func rate(base: Double, step: Int, totalSteps: Int, epoch: Int) -> Double {
    switch self {
    case .constant:
      return base
    case .cosine(let final):
      let progress = Double(step) / Double(max(totalSteps, 1))
      return base * (final + (1 - final) * 0.5 * (1 + cos(Double.pi * progress)))
    case .stepDecay(let epochs, let factor):
      return base * pow(factor, Double(epoch / max(epochs, 1)))
    }
  }

  /// Refuses values outside their ranges.
  func validate() throws(ModelError) {
    switch self {
    case .constant:
      return
    case .cosine(let final):
      guard final >= 0, final <= 1 else {
        throw .invalidHyperparameter(
          name: "cosine final fraction", value: "\(final)", expected: "a number in [0, 1]")
      }
    case .stepDecay(let epochs, let factor):
      guard epochs >= 1 else {
        throw .invalidHyperparameter(
          name: "step decay epochs", value: "\(epochs)", expected: "an integer ≥ 1")
      }
      guard factor > 0, factor <= 1 else {
        throw .invalidHyperparameter(
          name: "step decay factor", value: "\(factor)", expected: "a number in (0, 1]")
      }
    }
  }
}

import ArgumentParser
import GlimpseValuation

// The library's closed choices, parsed from their raw values (strings exist only at this edge).
extension ValuationMethod: ExpressibleByArgument {}
extension ValidationScore: ExpressibleByArgument {}
extension LearnerFamily.Kind: ExpressibleByArgument {}

/// `--semivalue`: the semivalue `--method exact` enumerates.
enum SemivalueName: String, CaseIterable, ExpressibleByArgument {
  case shapley
  case banzhaf
  case beta

  /// The library's semivalue, with the Beta weights `alpha` and `beta` for `beta`.
  func kind(alpha: Double, beta: Double) -> ExactSemivalues.Kind {
    switch self {
    case .shapley: .shapley
    case .banzhaf: .banzhaf
    case .beta: .beta(alpha: alpha, beta: beta)
    }
  }
}

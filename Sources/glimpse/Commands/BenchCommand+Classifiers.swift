import GlimpseCore

extension BenchCommand {
  /// Bench stages for logistic regression and k-NN fit/predict; each returns seconds (a median over `context.repeats`).
  static var classifierStages: [String: (BenchContext) throws -> Double] {
    [:]
  }
}

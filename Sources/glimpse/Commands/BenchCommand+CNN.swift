import GlimpseCore

extension BenchCommand {
  /// Bench stages for CNN epoch and predict; each returns seconds (a median over `context.repeats`).
  static var cnnStages: [String: (BenchContext) throws -> Double] {
    [:]
  }
}

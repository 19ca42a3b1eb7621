import GlimpseCore

extension BenchCommand {
  /// Bench stages for data valuation; each returns seconds (a median over `context.repeats`).
  static var valuationStages: [String: (BenchContext) throws -> Double] {
    [:]
  }
}

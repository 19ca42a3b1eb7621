import ArgumentParser
import GlimpseValuation

// The library's closed choices, parsed from their raw values (strings exist only at this edge).
extension ValuationMethod: ExpressibleByArgument {}
extension ValidationScore: ExpressibleByArgument {}
extension LearnerFamily.Kind: ExpressibleByArgument {}

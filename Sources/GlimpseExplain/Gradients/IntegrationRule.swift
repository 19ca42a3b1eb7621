import GlimpseCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// The quadratures captum offers for Integrated Gradients' path integral ∫₀¹ g(α) dα
// (`captum.attr._utils.approximation_methods`): Gauss–Legendre (captum's default,
// `method="gausslegendre"`, numpy's `leggauss(n)` mapped from [−1, 1] to [0, 1]) and the four
// Riemann sums. Each rule is a list of points α_i with weights w_i, Σ_i w_i g(α_i).

/// A quadrature rule for Integrated Gradients' path integral, as captum names them.
public enum IntegrationRule: String, Sendable, Codable, CaseIterable {
  /// Gauss–Legendre with n nodes: exact for polynomials of degree 2n − 1 (captum's default).
  case gaussLegendre = "gausslegendre"
  /// Left Riemann sum: α_i = i/n, weights 1/n.
  case riemannLeft = "riemann_left"
  /// Right Riemann sum: α_i = (i + 1)/n, weights 1/n.
  case riemannRight = "riemann_right"
  /// Midpoint sum: α_i = (i + ½)/n, weights 1/n.
  case riemannMiddle = "riemann_middle"
  /// Trapezoid rule: α_i = i/(n − 1), weights 1/n with the two ends halved (as captum weighs
  /// them, so the weights sum to 1 − 1/n).
  case riemannTrapezoid = "riemann_trapezoid"

  /// The points α_i in [0, 1] (ascending) and their weights for `steps` evaluations; `nil`
  /// when `steps` is too small for the rule (< 1, or < 2 for the Riemann sums, as captum asks).
  public func nodes(steps n: Int) -> (alphas: [Double], weights: [Double])? {
    switch self {
    case .gaussLegendre:
      guard n >= 1 else { return nil }
      let (x, w) = Self.legendre(n)
      return (x.map { 0.5 * (1 + $0) }, w.map { 0.5 * $0 })
    case .riemannLeft, .riemannRight, .riemannMiddle, .riemannTrapezoid:
      guard n >= 2 else { return nil }
      var weights = [Double](repeating: 1 / Double(n), count: n)
      let alphas: [Double]
      switch self {
      case .riemannLeft: alphas = (0..<n).map { Double($0) / Double(n) }
      case .riemannRight: alphas = (0..<n).map { Double($0 + 1) / Double(n) }
      case .riemannMiddle: alphas = (0..<n).map { (Double($0) + 0.5) / Double(n) }
      default:
        alphas = (0..<n).map { Double($0) / Double(n - 1) }
        weights[0] /= 2
        weights[n - 1] /= 2
      }
      return (alphas, weights)
    }
  }

  /// Gauss–Legendre nodes on [−1, 1], ascending, and weights: the roots of P_n by Newton's
  /// method from Tricomi's estimate cos(π (i + ¾)/(n + ½)), w = 2 / ((1 − x²) P_n′(x)²)
  /// (Abramowitz & Stegun 25.4.29), the weights then scaled to sum to 2 as numpy's `leggauss`.
  static func legendre(_ n: Int) -> (nodes: [Double], weights: [Double]) {
    var nodes = [Double](repeating: 0, count: n)
    var weights = [Double](repeating: 0, count: n)
    for i in 0..<n {
      var x = cos(Double.pi * (Double(i) + 0.75) / (Double(n) + 0.5))
      var derivative = 0.0
      for _ in 0..<100 {
        let (p, dp) = Self.legendrePolynomial(n, x)
        derivative = dp
        let step = p / dp
        x -= step
        if abs(step) < 1e-16 { break }
      }
      derivative = Self.legendrePolynomial(n, x).derivative
      // Descending x for ascending i: store from the end so the nodes ascend.
      nodes[n - 1 - i] = x
      weights[n - 1 - i] = 2 / ((1 - x * x) * derivative * derivative)
    }
    let total = weights.reduce(0, +)
    return (nodes, weights.map { $0 * 2 / total })
  }

  /// P_n(x) and P_n′(x) by the three-term recurrence (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1}.
  static func legendrePolynomial(_ n: Int, _ x: Double) -> (value: Double, derivative: Double) {
    var previous = 1.0
    var current = x
    if n == 0 { return (1, 0) }
    for k in 1..<n {
      let next = ((2 * Double(k) + 1) * x * current - Double(k) * previous) / Double(k + 1)
      previous = current
      current = next
    }
    return (current, Double(n) * (x * current - previous) / (x * x - 1))
  }
}

import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

// Implementation notes
// 1. The direction is the two-loop recursion of Nocedal & Wright, "Numerical Optimization",
//    2nd ed., Springer 2006, Algorithm 7.4, with the initial matrix H₀ = γI, γ = sᵀy / yᵀy of the
//    newest pair (eq. 7.20). A pair with sᵀy ≤ ε·yᵀy is skipped, as L-BFGS-B does, so the
//    implicit matrix stays positive definite.
// 2. The step satisfies the strong Wolfe conditions (N&W eq. 3.7, c₁ = 1e-4, c₂ = 0.9) by
//    bracketing then zooming (N&W Algorithms 3.5 and 3.6), with the safeguarded cubic of
//    eq. 3.59 as the trial point. At most 50 evaluations per search, scikit-learn's `maxls`.
// 3. Stopping mirrors scipy's L-BFGS-B as scikit-learn calls it: a caller-defined gradient size
//    (scikit-learn's is the max-abs gradient of its own scaling of the objective) at most
//    `tolerance`, or a relative reduction of f below 64 ε (`ftol = 64 * eps`), or the iteration
//    limit. The first step is 1 / ‖p‖₂ as in L-BFGS-B (Byrd, Lu, Nocedal & Zhu, "A limited
//    memory algorithm for bound constrained optimization", SISC 16(5), 1995), later steps try 1.
// 4. Vector work is level-1 BLAS on arrays of a few thousand doubles; all the time goes into the
//    objective, so nothing here is tuned beyond avoiding per-element closures.

/// Limited-memory BFGS for smooth unconstrained minimisation.
struct LBFGS {
  /// Number of (s, y) pairs kept (scikit-learn and scipy: 10).
  var memory = 10
  /// Iteration limit; an iteration is one accepted line-search step.
  var maxIterations = 1000
  /// Stop when `gradientSize(x, ∇f) ≤ tolerance`.
  var tolerance = 1e-4
  /// Stop when `(f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1)` falls to this (scipy's `ftol`).
  var relativeReductionTolerance = 64 * Double.ulpOfOne
  /// Objective evaluations allowed per line search (scikit-learn's `maxls`).
  var maxLineSearchEvaluations = 50
  /// Sufficient-decrease constant c₁ of the Wolfe conditions.
  var sufficientDecrease = 1e-4
  /// Curvature constant c₂ of the strong Wolfe conditions.
  var curvature = 0.9

  /// Why the minimiser stopped.
  enum Outcome: Equatable {
    /// The gradient size reached the tolerance.
    case converged
    /// f stopped decreasing (relative reduction below `relativeReductionTolerance`).
    case stalled
    /// The iteration limit was reached first.
    case iterationLimit
    /// No step satisfying the Wolfe conditions was found, even along −∇f.
    case lineSearchFailed
  }

  /// The last iterate and how it was reached.
  struct Result {
    var x: [Double]
    var value: Double
    var gradient: [Double]
    var iterations: Int
    var evaluations: Int
    var outcome: Outcome
  }

  /// Minimises `objective` from `start`.
  ///
  /// - Parameters:
  ///   - objective: Returns f(x) and writes ∇f(x) into its second argument (same length as x).
  ///   - gradientSize: The size compared with `tolerance`, from the point and its gradient.
  ///   - progress: Called after each iteration with a fraction in [0, 1].
  func minimize(
    from start: [Double],
    objective: ([Double], inout [Double]) -> Double,
    gradientSize: ([Double], [Double]) -> Double,
    progress: (Double) -> Void = { _ in }
  ) -> Result {
    let count = start.count
    var x = start
    var gradient = [Double](repeating: 0, count: count)
    var value = objective(x, &gradient)
    var evaluations = 1
    var size = gradientSize(x, gradient)
    if size <= tolerance || count == 0 {
      return Result(
        x: x, value: value, gradient: gradient, iterations: 0, evaluations: evaluations,
        outcome: .converged)
    }
    let initialSize = size
    var reported = 0.0

    var history = History(capacity: max(memory, 1))
    var direction = [Double](repeating: 0, count: count)
    var search = LineSearch(count: count)
    var iterations = 0
    var outcome = Outcome.iterationLimit
    while iterations < maxIterations {
      history.direction(for: gradient, into: &direction)
      var slope = BLAS.dot(gradient, direction)
      if !(slope < 0) {
        // Rounding can spoil the implicit matrix; steepest descent is always a descent direction.
        history.removeAll()
        direction = gradient
        BLAS.scale(&direction, by: -1)
        slope = BLAS.dot(gradient, direction)
      }
      let firstStep = history.isEmpty ? min(1, 1 / BLAS.norm(direction)) : 1
      var step = search.run(
        x: x, value: value, slope: slope, direction: direction, initialStep: firstStep,
        settings: self, objective: objective)
      evaluations += search.evaluations
      if step == nil && !history.isEmpty {
        history.removeAll()
        direction = gradient
        BLAS.scale(&direction, by: -1)
        slope = BLAS.dot(gradient, direction)
        step = search.run(
          x: x, value: value, slope: slope, direction: direction,
          initialStep: min(1, 1 / BLAS.norm(direction)), settings: self, objective: objective)
        evaluations += search.evaluations
      }
      guard step != nil else {
        outcome = .lineSearchFailed
        break
      }
      iterations += 1
      history.append(
        step: difference(search.x, x), gradientChange: difference(search.gradient, gradient))
      let previousValue = value
      swap(&x, &search.x)
      swap(&gradient, &search.gradient)
      value = search.value

      size = gradientSize(x, gradient)
      let fraction =
        size <= tolerance || tolerance <= 0
        ? Double(iterations) / Double(maxIterations)
        : log(initialSize / size) / log(initialSize / tolerance)
      reported = max(reported, min(1, max(fraction, Double(iterations) / Double(maxIterations))))
      progress(reported)
      if size <= tolerance {
        outcome = .converged
        break
      }
      let reduction =
        (previousValue - value) / max(abs(previousValue), abs(value), 1)
      if reduction <= relativeReductionTolerance {
        outcome = .stalled
        break
      }
    }
    return Result(
      x: x, value: value, gradient: gradient, iterations: iterations, evaluations: evaluations,
      outcome: outcome)
  }

  private func difference(_ a: [Double], _ b: [Double]) -> [Double] {
    var result = a
    BLAS.axpy(-1, b, &result)
    return result
  }
}

extension LBFGS {
  /// The newest `capacity` pairs sₖ = xₖ₊₁ − xₖ, yₖ = ∇fₖ₊₁ − ∇fₖ, oldest first.
  struct History {
    let capacity: Int
    private var steps: [[Double]] = []
    private var gradientChanges: [[Double]] = []
    private var rho: [Double] = []
    private var alpha: [Double] = []

    init(capacity: Int) { self.capacity = capacity }

    var isEmpty: Bool { steps.isEmpty }

    mutating func removeAll() {
      steps.removeAll()
      gradientChanges.removeAll()
      rho.removeAll()
    }

    /// Keeps the pair unless sᵀy ≤ ε·yᵀy (L-BFGS-B's test), dropping the oldest when full.
    mutating func append(step s: [Double], gradientChange y: [Double]) {
      let sy = BLAS.dot(s, y)
      let yy = BLAS.dot(y, y)
      guard sy > Double.ulpOfOne * yy, sy.isFinite else { return }
      if steps.count == capacity {
        steps.removeFirst()
        gradientChanges.removeFirst()
        rho.removeFirst()
      }
      steps.append(s)
      gradientChanges.append(y)
      rho.append(1 / sy)
    }

    /// p = −H∇f by the two-loop recursion (N&W Algorithm 7.4).
    mutating func direction(for gradient: [Double], into p: inout [Double]) {
      p = gradient
      let m = steps.count
      if alpha.count < m { alpha = [Double](repeating: 0, count: m) }
      for i in stride(from: m - 1, through: 0, by: -1) {
        alpha[i] = rho[i] * BLAS.dot(steps[i], p)
        BLAS.axpy(-alpha[i], gradientChanges[i], &p)
      }
      if m > 0 {
        // γ = sᵀy / yᵀy of the newest pair (N&W eq. 7.20) scales H₀ to the curvature seen last.
        let y = gradientChanges[m - 1]
        BLAS.scale(&p, by: 1 / (rho[m - 1] * BLAS.dot(y, y)))
      }
      for i in 0..<m {
        let beta = rho[i] * BLAS.dot(gradientChanges[i], p)
        BLAS.axpy(alpha[i] - beta, steps[i], &p)
      }
      BLAS.scale(&p, by: -1)
    }
  }
}

extension LBFGS {
  /// Finds α with f(x + αp) ≤ f(x) + c₁α∇fᵀp and |∇f(x + αp)ᵀp| ≤ c₂|∇fᵀp| (N&W Alg. 3.5, 3.6).
  ///
  /// The accepted point, its value and gradient are left in `x`, `value` and `gradient`.
  struct LineSearch {
    var x: [Double]
    var gradient: [Double]
    var value = 0.0
    var evaluations = 0
    /// The step whose point is in `x` now.
    private var evaluatedStep = Double.nan

    init(count: Int) {
      x = [Double](repeating: 0, count: count)
      gradient = [Double](repeating: 0, count: count)
    }

    /// One trial point: α, φ(α) and φ'(α).
    private struct Trial {
      var step: Double
      var value: Double
      var slope: Double
    }

    /// Returns the accepted step, or `nil` when none was found within the evaluation budget.
    mutating func run(
      x start: [Double], value startValue: Double, slope startSlope: Double,
      direction: [Double], initialStep: Double, settings: LBFGS,
      objective: ([Double], inout [Double]) -> Double
    ) -> Double? {
      evaluations = 0
      let c1 = settings.sufficientDecrease
      let c2 = settings.curvature
      let budget = settings.maxLineSearchEvaluations
      let origin = Trial(step: 0, value: startValue, slope: startSlope)

      func evaluate(_ step: Double) -> Trial {
        start.withUnsafeBufferPointer { px in
          direction.withUnsafeBufferPointer { pp in
            x.withUnsafeMutableBufferPointer { target in
              guard let xs = px.baseAddress, let ps = pp.baseAddress,
                let ts = target.baseAddress
              else { return }
              for i in 0..<target.count { ts[i] = xs[i] + step * ps[i] }
            }
          }
        }
        evaluations += 1
        evaluatedStep = step
        value = objective(x, &gradient)
        return Trial(step: step, value: value, slope: BLAS.dot(gradient, direction))
      }
      func sufficientlyLower(_ t: Trial) -> Bool {
        t.value.isFinite && t.value <= startValue + c1 * t.step * startSlope
      }
      func flatEnough(_ t: Trial) -> Bool { abs(t.slope) <= -c2 * startSlope }

      // Algorithm 3.6: shrink [lo, hi] (lo: best sufficient-decrease point so far) until a
      // trial satisfies both conditions.
      func zoom(_ low: Trial, _ high: Trial) -> Double? {
        var lo = low
        var hi = high
        while evaluations < budget {
          let width = abs(hi.step - lo.step)
          guard width > 1e-16 * max(lo.step, hi.step) else { break }
          let trial = evaluate(Self.cubicMinimizer(lo, hi) ?? (lo.step + hi.step) / 2)
          if !sufficientlyLower(trial) || trial.value >= lo.value {
            hi = trial
          } else {
            if flatEnough(trial) { return trial.step }
            if trial.slope * (hi.step - lo.step) >= 0 { hi = lo }
            lo = trial
          }
        }
        // Out of budget: fall back on the best point with sufficient decrease, if any.
        guard lo.step > 0 else { return nil }
        if evaluatedStep != lo.step { _ = evaluate(lo.step) }
        return lo.step
      }

      // Algorithm 3.5: grow the step until the minimiser along p is bracketed.
      var previous = origin
      var step = initialStep
      while evaluations < budget {
        let trial = evaluate(step)
        if !sufficientlyLower(trial) || (previous.step > 0 && trial.value >= previous.value) {
          return zoom(previous, trial)
        }
        if flatEnough(trial) { return trial.step }
        if trial.slope >= 0 { return zoom(trial, previous) }
        previous = trial
        step *= 2
      }
      guard previous.step > 0 else { return nil }
      if evaluatedStep != previous.step { _ = evaluate(previous.step) }
      return previous.step
    }

    /// The minimiser of the cubic through both trials' values and slopes (N&W eq. 3.59), kept
    /// a tenth of the interval away from its ends; `nil` when the cubic has no real minimiser.
    private static func cubicMinimizer(_ a: Trial, _ b: Trial) -> Double? {
      guard a.value.isFinite, b.value.isFinite, a.step != b.step else { return nil }
      let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step)
      let discriminant = d1 * d1 - a.slope * b.slope
      guard discriminant >= 0 else { return nil }
      let d2 = (b.step > a.step ? 1.0 : -1.0) * discriminant.squareRoot()
      let candidate =
        b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
      guard candidate.isFinite else { return nil }
      let low = min(a.step, b.step)
      let high = max(a.step, b.step)
      let margin = 0.1 * (high - low)
      return min(max(candidate, low + margin), high - margin)
    }
  }
}

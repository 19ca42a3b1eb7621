// Implementation notes
// Solves the C-SVC dual  min ½ αᵀQα − eᵀα  s.t. 0 ≤ α ≤ C, yᵀα = 0,  Q_ij = y_i y_j K(x_i, x_j),
// by sequential minimal optimisation:
// 1. Working set: the maximal violating i and, among the j that would decrease the objective,
//    the one with the largest second-order decrease −b²/a (Fan, Chen & Lin, "Working Set
//    Selection Using Second Order Information for Training Support Vector Machines", JMLR 6,
//    2005, WSS 2 / eq. (14)); a ≤ 0 is replaced by τ = 1e-12 for indefinite kernels.
// 2. Stopping: m(α) − M(α) < ε (their eq. (6)), ε = 1e-3 as libsvm and scikit-learn.
// 3. Shrinking (their §4 and Joachims 1999): every min(l, 1000) iterations, bounded variables
//    that cannot move are set aside; when the gap first falls under 10ε the gradient is rebuilt
//    from Ḡ (the gradient contribution of variables at the upper bound, kept up to date) and all
//    variables are active again, and optimality is always confirmed on the full set.
// 4. Unlike libsvm we never permute the problem: `active` lists the active indices, and kernel
//    rows always span the whole subproblem, which keeps the cache simple.
// The two-variable update is the analytic solution clipped to the box, in the form libsvm uses.

/// The result of one binary SVM training.
struct SMOSolution {
  /// Dual coefficients, `0 ≤ α_i ≤ C`.
  var alpha: [Double]
  /// The offset: decision values are `Σ y_i α_i K(x_i, x) − rho`.
  var rho: Double
  /// Iterations used.
  var iterations: Int
}

/// SMO with WSS 2 and shrinking for the C-SVC dual.
struct SMOSolver {
  private let y: [Double]
  private let c: Double
  private let epsilon: Double
  private let shrinking: Bool
  private let kernel: KernelRows
  private let l: Int
  private var alpha: [Double]
  private var gradient: [Double]
  private var gradientBar: [Double]
  private var status: [Bound]
  private var active: [Int]
  private var activeSize: Int
  private var unshrink = false
  private static let tau = 1e-12

  private enum Bound { case lower, upper, free }

  /// - Parameters:
  ///   - labels: `+1` or `−1` per subproblem row.
  init(kernel: KernelRows, labels: [Double], c: Double, epsilon: Double, shrinking: Bool) {
    l = labels.count
    precondition(
      kernel.members.count == l, "kernel rows (\(kernel.members.count)) != labels (\(l))")
    self.kernel = kernel
    y = labels
    self.c = c
    self.epsilon = epsilon
    self.shrinking = shrinking
    alpha = [Double](repeating: 0, count: l)
    gradient = [Double](repeating: -1, count: l)  // ∇f(0) = Q·0 − e
    gradientBar = [Double](repeating: 0, count: l)
    status = [Bound](repeating: .lower, count: l)
    active = Array(0..<l)
    activeSize = l
  }

  /// Runs to optimality (or `maxIterations`).
  mutating func solve(maxIterations: Int? = nil) -> SMOSolution {
    let limit = maxIterations ?? max(10_000_000, l > Int.max / 100 ? Int.max : 100 * l)
    var iterations = 0
    var counter = min(l, 1000) + 1
    while iterations < limit {
      counter -= 1
      if counter == 0 {
        counter = min(l, 1000)
        if shrinking { shrink() }
      }
      var pair = selectWorkingSet()
      if pair == nil {
        // Optimal on the active set: confirm on the whole problem.
        reconstructGradient()
        activeSize = l
        pair = selectWorkingSet()
        if pair == nil { break }
        counter = 1  // shrink again at the next iteration
      }
      guard let (i, j) = pair else { break }
      iterations += 1
      update(i, j)
    }
    if activeSize < l {
      reconstructGradient()
      activeSize = l
    }
    return SMOSolution(alpha: alpha, rho: computeRho(), iterations: iterations)
  }

  // MARK: - Steps

  private func isUpper(_ i: Int) -> Bool { status[i] == .upper }
  private func isLower(_ i: Int) -> Bool { status[i] == .lower }

  private mutating func updateStatus(_ i: Int) {
    status[i] = alpha[i] >= c ? .upper : (alpha[i] <= 0 ? .lower : .free)
  }

  /// WSS 2: returns nil when the active set is optimal within ε.
  private func selectWorkingSet() -> (Int, Int)? {
    var gMax = -Double.infinity
    var gMax2 = -Double.infinity
    var iSelected = -1
    for position in 0..<activeSize {
      let t = active[position]
      if y[t] > 0 {
        if !isUpper(t) && -gradient[t] >= gMax {
          gMax = -gradient[t]
          iSelected = t
        }
      } else if !isLower(t) && gradient[t] >= gMax {
        gMax = gradient[t]
        iSelected = t
      }
    }
    guard iSelected >= 0 else { return nil }
    let i = iSelected
    let kernelI = kernel.row(i)
    let diagonal = kernel.diagonal
    var jSelected = -1
    var bestDecrease = Double.infinity
    for position in 0..<activeSize {
      let j = active[position]
      // Q_ij = y_i y_j K_ij, so y_i Q_ij = y_j K_ij.
      if y[j] > 0 {
        guard !isLower(j) else { continue }
        let gradientDifference = gMax + gradient[j]
        if gradient[j] >= gMax2 { gMax2 = gradient[j] }
        if gradientDifference > 0 {
          let curvature = diagonal[i] + diagonal[j] - 2 * y[i] * kernelI[j]
          let decrease =
            -(gradientDifference * gradientDifference) / (curvature > 0 ? curvature : Self.tau)
          if decrease <= bestDecrease {
            jSelected = j
            bestDecrease = decrease
          }
        }
      } else {
        guard !isUpper(j) else { continue }
        let gradientDifference = gMax - gradient[j]
        if -gradient[j] >= gMax2 { gMax2 = -gradient[j] }
        if gradientDifference > 0 {
          let curvature = diagonal[i] + diagonal[j] + 2 * y[i] * kernelI[j]
          let decrease =
            -(gradientDifference * gradientDifference) / (curvature > 0 ? curvature : Self.tau)
          if decrease <= bestDecrease {
            jSelected = j
            bestDecrease = decrease
          }
        }
      }
    }
    if gMax + gMax2 < epsilon || jSelected < 0 { return nil }
    return (i, jSelected)
  }

  /// The analytic two-variable step, clipped to the box; then the gradient updates.
  private mutating func update(_ i: Int, _ j: Int) {
    let kernelI = kernel.row(i)
    let kernelJ = kernel.row(j)
    let qij = y[i] * y[j] * kernelI[j]
    let diagonal = kernel.diagonal
    let oldI = alpha[i]
    let oldJ = alpha[j]
    if y[i] != y[j] {
      var curvature = diagonal[i] + diagonal[j] + 2 * qij
      if curvature <= 0 { curvature = Self.tau }
      let delta = (-gradient[i] - gradient[j]) / curvature
      let difference = alpha[i] - alpha[j]
      alpha[i] += delta
      alpha[j] += delta
      if difference > 0 {
        if alpha[j] < 0 {
          alpha[j] = 0
          alpha[i] = difference
        }
      } else if alpha[i] < 0 {
        alpha[i] = 0
        alpha[j] = -difference
      }
      if difference > 0 {  // C_i − C_j = 0 with one C for both classes
        if alpha[i] > c {
          alpha[i] = c
          alpha[j] = c - difference
        }
      } else if alpha[j] > c {
        alpha[j] = c
        alpha[i] = c + difference
      }
    } else {
      var curvature = diagonal[i] + diagonal[j] - 2 * qij
      if curvature <= 0 { curvature = Self.tau }
      let delta = (gradient[i] - gradient[j]) / curvature
      let sum = alpha[i] + alpha[j]
      alpha[i] -= delta
      alpha[j] += delta
      if sum > c {
        if alpha[i] > c {
          alpha[i] = c
          alpha[j] = sum - c
        }
      } else if alpha[j] < 0 {
        alpha[j] = 0
        alpha[i] = sum
      }
      if sum > c {
        if alpha[j] > c {
          alpha[j] = c
          alpha[i] = sum - c
        }
      } else if alpha[i] < 0 {
        alpha[i] = 0
        alpha[j] = sum
      }
    }
    let deltaI = alpha[i] - oldI
    let deltaJ = alpha[j] - oldJ
    // ∇f changes by Q_:i Δα_i + Q_:j Δα_j, with Q_ki = y_k y_i K_ki.
    let scaledI = y[i] * deltaI
    let scaledJ = y[j] * deltaJ
    for position in 0..<activeSize {
      let k = active[position]
      gradient[k] += y[k] * (kernelI[k] * scaledI + kernelJ[k] * scaledJ)
    }
    let wasUpperI = isUpper(i)
    let wasUpperJ = isUpper(j)
    updateStatus(i)
    updateStatus(j)
    if wasUpperI != isUpper(i) {
      let sign = wasUpperI ? -c : c
      for k in 0..<l { gradientBar[k] += sign * y[k] * y[i] * kernelI[k] }
    }
    if wasUpperJ != isUpper(j) {
      let sign = wasUpperJ ? -c : c
      for k in 0..<l { gradientBar[k] += sign * y[k] * y[j] * kernelJ[k] }
    }
  }

  /// Sets aside bounded variables that cannot enter the working set (Fan et al. 2005, §4).
  private mutating func shrink() {
    var gMax1 = -Double.infinity  // max { −y_t ∇f_t : t ∈ I_up }
    var gMax2 = -Double.infinity  // max { y_t ∇f_t : t ∈ I_low }
    for position in 0..<activeSize {
      let t = active[position]
      if y[t] > 0 {
        if !isUpper(t) { gMax1 = max(gMax1, -gradient[t]) }
        if !isLower(t) { gMax2 = max(gMax2, gradient[t]) }
      } else {
        if !isUpper(t) { gMax2 = max(gMax2, -gradient[t]) }
        if !isLower(t) { gMax1 = max(gMax1, gradient[t]) }
      }
    }
    if !unshrink && gMax1 + gMax2 <= epsilon * 10 {
      unshrink = true
      reconstructGradient()
      activeSize = l
    }
    var position = 0
    while position < activeSize {
      if canShrink(active[position], gMax1, gMax2) {
        activeSize -= 1
        active.swapAt(position, activeSize)
      } else {
        position += 1
      }
    }
  }

  private func canShrink(_ t: Int, _ gMax1: Double, _ gMax2: Double) -> Bool {
    if isUpper(t) { return y[t] > 0 ? -gradient[t] > gMax1 : -gradient[t] > gMax2 }
    if isLower(t) { return y[t] > 0 ? gradient[t] > gMax2 : gradient[t] > gMax1 }
    return false
  }

  /// Recomputes the gradient of the inactive variables: ∇f = Ḡ − e + Σ_free α_j Q_:j.
  private mutating func reconstructGradient() {
    guard activeSize < l else { return }
    for position in activeSize..<l {
      let t = active[position]
      gradient[t] = gradientBar[t] - 1
    }
    for position in 0..<activeSize {
      let j = active[position]
      guard status[j] == .free else { continue }
      let kernelJ = kernel.row(j)
      let scaled = y[j] * alpha[j]
      for inactive in activeSize..<l {
        let t = active[inactive]
        gradient[t] += y[t] * kernelJ[t] * scaled
      }
    }
  }

  /// The offset from the KKT conditions: the mean of y_i ∇f_i over free variables, or the
  /// midpoint of the feasible interval when none is free.
  private func computeRho() -> Double {
    var upperBound = Double.infinity
    var lowerBound = -Double.infinity
    var freeCount = 0
    var freeSum = 0.0
    for position in 0..<activeSize {
      let t = active[position]
      let yg = y[t] * gradient[t]
      if isUpper(t) {
        if y[t] < 0 { upperBound = min(upperBound, yg) } else { lowerBound = max(lowerBound, yg) }
      } else if isLower(t) {
        if y[t] > 0 { upperBound = min(upperBound, yg) } else { lowerBound = max(lowerBound, yg) }
      } else {
        freeCount += 1
        freeSum += yg
      }
    }
    return freeCount > 0 ? freeSum / Double(freeCount) : (upperBound + lowerBound) / 2
  }
}

#if canImport(Glibc)
  import Glibc
#endif

/// A sigmoid `P(y = +1 | f) = 1 / (1 + exp(A f + B))` fitted to decision values f.
///
/// Platt, "Probabilistic Outputs for Support Vector Machines", 1999, with the numerically
/// robust Newton method of Lin, Lin & Weng, "A note on Platt's probabilistic outputs for
/// support vector machines", Machine Learning 68, 2007 (Algorithm 1): regularised targets
/// (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2), a Hessian shifted by σ = 1e-12, backtracking line search,
/// and a log(1 + exp) evaluated without overflow. This is how libsvm (and so scikit-learn's
/// `SVC(probability=True)`) calibrates each one-vs-one pair.
struct PlattSigmoid: Sendable, Equatable, Codable {
  var a: Double
  var b: Double

  /// Fits A and B to decision values and ±1 labels.
  static func fit(decisionValues: [Double], labels: [Double]) -> PlattSigmoid {
    let positives = Double(labels.filter { $0 > 0 }.count)
    let negatives = Double(labels.count) - positives
    let maxIterations = 100
    let minStep = 1e-10
    let sigma = 1e-12
    let epsilon = 1e-5
    let highTarget = (positives + 1) / (positives + 2)
    let lowTarget = 1 / (negatives + 2)
    let targets = labels.map { $0 > 0 ? highTarget : lowTarget }
    var a = 0.0
    var b = log((negatives + 1) / (positives + 1))

    func objective(_ a: Double, _ b: Double) -> Double {
      var value = 0.0
      for (f, t) in zip(decisionValues, targets) {
        let fApB = f * a + b
        value += fApB >= 0 ? t * fApB + log1p(exp(-fApB)) : (t - 1) * fApB + log1p(exp(fApB))
      }
      return value
    }

    var value = objective(a, b)
    for _ in 0..<maxIterations {
      // Gradient and Hessian of the negative log-likelihood.
      var h11 = sigma
      var h22 = sigma
      var h21 = 0.0
      var g1 = 0.0
      var g2 = 0.0
      for (f, t) in zip(decisionValues, targets) {
        let fApB = f * a + b
        let (p, q) =
          fApB >= 0
          ? (exp(-fApB) / (1 + exp(-fApB)), 1 / (1 + exp(-fApB)))
          : (1 / (1 + exp(fApB)), exp(fApB) / (1 + exp(fApB)))
        let d2 = p * q
        h11 += f * f * d2
        h22 += d2
        h21 += f * d2
        let d1 = t - p
        g1 += f * d1
        g2 += d1
      }
      if abs(g1) < epsilon && abs(g2) < epsilon { break }
      let determinant = h11 * h22 - h21 * h21
      let dA = -(h22 * g1 - h21 * g2) / determinant
      let dB = -(-h21 * g1 + h11 * g2) / determinant
      let slope = g1 * dA + g2 * dB
      var step = 1.0
      while step >= minStep {
        let newA = a + step * dA
        let newB = b + step * dB
        let newValue = objective(newA, newB)
        if newValue < value + 0.0001 * step * slope {
          a = newA
          b = newB
          value = newValue
          break
        }
        step /= 2
      }
      if step < minStep { break }  // the line search failed: keep the last good point
    }
    return PlattSigmoid(a: a, b: b)
  }

  /// `P(y = +1 | f)`, computed without overflow.
  func probability(_ f: Double) -> Double {
    let fApB = f * a + b
    return fApB >= 0 ? exp(-fApB) / (1 + exp(-fApB)) : 1 / (1 + exp(fApB))
  }
}

/// Multiclass probabilities from pairwise ones, Wu, Lin & Weng, "Probability Estimates for
/// Multi-class Classification by Pairwise Coupling", JMLR 5, 2004, method 2 (eq. (21)): minimise
/// Σ_i Σ_{j≠i} (r_ji p_i − r_ij p_j)² on the simplex by the fixed-point iteration of their §4.
enum PairwiseCoupling {
  /// - Parameters:
  ///   - r: `r[i][j]` = P(class i | i or j), with `r[j][i] = 1 − r[i][j]`; `k × k`.
  /// - Returns: `k` probabilities summing to 1.
  static func probabilities(_ r: [[Double]]) -> [Double] {
    let k = r.count
    var scratch = Scratch(classes: k)
    var p = [Double](repeating: 0, count: k)
    let flat = r.flatMap { $0 }
    flat.withUnsafeBufferPointer { flat in
      p.withUnsafeMutableBufferPointer { p in
        guard let flat = flat.baseAddress, let p = p.baseAddress else { return }
        couple(flat, into: p, scratch: &scratch)
      }
    }
    return p
  }

  /// The work arrays of `couple` for `classes` classes, reused from row to row.
  struct Scratch {
    let classes: Int
    var q: [Double]
    var qp: [Double]

    init(classes: Int) {
      self.classes = classes
      q = [Double](repeating: 0, count: classes * classes)
      qp = [Double](repeating: 0, count: classes)
    }
  }

  /// `probabilities` on flat storage: `r` is `k × k` row-major (the diagonal is not read), the
  /// `k` probabilities go to `p`. The same operations in the same order as libsvm's
  /// `multiclass_probability`, without per-row allocations.
  static func couple(
    _ r: UnsafePointer<Double>, into p: UnsafeMutablePointer<Double>, scratch: inout Scratch
  ) {
    let k = scratch.classes
    scratch.q.withUnsafeMutableBufferPointer { qBuffer in
      scratch.qp.withUnsafeMutableBufferPointer { qpBuffer in
        guard let q = qBuffer.baseAddress, let qp = qpBuffer.baseAddress else { return }
        q.update(repeating: 0, count: k * k)
        for t in 0..<k {
          for j in 0..<k where j != t {
            q[t * k + t] += r[j * k + t] * r[j * k + t]
            q[t * k + j] = -r[j * k + t] * r[t * k + j]
          }
        }
        p.update(repeating: 1 / Double(k), count: k)
        let maxIterations = max(100, k)
        let epsilon = 0.005 / Double(k)
        for _ in 0..<maxIterations {
          var pqp = 0.0
          for t in 0..<k {
            qp[t] = 0
            for j in 0..<k { qp[t] += q[t * k + j] * p[j] }
            pqp += p[t] * qp[t]
          }
          var maxError = 0.0
          for t in 0..<k { maxError = max(maxError, abs(qp[t] - pqp)) }
          if maxError < epsilon { break }
          for t in 0..<k {
            let qtt = q[t * k + t]
            let difference = (-qp[t] + pqp) / qtt
            p[t] += difference
            pqp =
              (pqp + difference * (difference * qtt + 2 * qp[t])) / (1 + difference)
              / (1 + difference)
            for j in 0..<k {
              qp[j] = (qp[j] + difference * q[t * k + j]) / (1 + difference)
              p[j] /= 1 + difference
            }
          }
        }
      }
    }
  }
}

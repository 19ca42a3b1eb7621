import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

/// Where Adam adds ε, the one point on which Keras and PyTorch compute different updates.
///
/// With m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ), PyTorch's `torch.optim.Adam` steps by
/// `lr · m̂ / (√v̂ + ε)` (Kingma & Ba's Algorithm 1), while Keras' `Adam` folds both bias
/// corrections into the step size and adds ε to the uncorrected root:
/// `lr · √(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)` (the "ε̂" of Kingma & Ba's §2, end). Multiplying
/// out, Keras' step is PyTorch's with ε replaced by ε / √(1 − β₂ᵗ): a larger effective ε early
/// on (√1000 ≈ 31.6 times ε at the first step with β₂ = 0.999), tending to ε as t grows. With
/// ε = 1e-7 the denominators differ by at most 3.1e-6, negligible next to √v̂ except for
/// gradient components that are themselves that small, which Keras moves less (the anchors'
/// RESULTS.md, §5, calls it "a difference of order 1e-7").
public enum AdamEpsilonPlacement: String, Sendable, Codable, CaseIterable {
  /// `m / (√v + ε)` with the bias corrections in the step size (Keras, TensorFlow).
  case keras
  /// `m̂ / (√v̂ + ε)` (PyTorch; Kingma & Ba's Algorithm 1).
  case pytorch
}

/// Adam's settings; the defaults are Keras' (`beta_1=0.9, beta_2=0.999, epsilon=1e-7`).
///
/// Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1.
public struct AdamSettings: Sendable, Codable, Equatable {
  /// Decay of the first-moment estimate, in [0, 1).
  public var beta1: Double
  /// Decay of the second-moment estimate, in [0, 1).
  public var beta2: Double
  /// Added to the root of the second moment, > 0.
  public var epsilon: Double
  /// Where ε is added (see `AdamEpsilonPlacement`).
  public var epsilonPlacement: AdamEpsilonPlacement

  /// Keras' defaults unless given.
  public init(
    beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
    epsilonPlacement: AdamEpsilonPlacement = .keras
  ) {
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.epsilonPlacement = epsilonPlacement
  }
}

/// How parameters follow their gradients.
public enum Optimizer: Sendable, Codable, Equatable {
  /// Adam (Kingma & Ba 2015).
  case adam(AdamSettings)
  /// Plain stochastic gradient descent, `θ ← θ − lr · g` (no momentum, no weight decay).
  case sgd

  /// Adam with Keras' defaults.
  public static var adam: Optimizer { .adam(AdamSettings()) }

  /// Refuses settings outside their ranges.
  func validate() throws(ModelError) {
    guard case .adam(let s) = self else { return }
    for (name, value) in [("beta1", s.beta1), ("beta2", s.beta2)] where !(value >= 0 && value < 1) {
      throw .invalidHyperparameter(name: name, value: "\(value)", expected: "a number in [0, 1)")
    }
    guard s.epsilon > 0, s.epsilon.isFinite else {
      throw .invalidHyperparameter(
        name: "epsilon", value: "\(s.epsilon)", expected: "a finite number > 0")
    }
  }
}

/// An optimiser's running state: step count and, for Adam, the two moment estimates of every
/// parameter array.
struct OptimizerState<Scalar: GEMMScalar> {
  let optimizer: Optimizer
  private(set) var step = 0
  private var firstMoments: [[Scalar]]
  private var secondMoments: [[Scalar]]

  /// Fresh state for parameter arrays of the given sizes (moments start at 0).
  init(_ optimizer: Optimizer, sizes: [Int]) {
    self.optimizer = optimizer
    if case .adam = optimizer {
      firstMoments = sizes.map { [Scalar](repeating: 0, count: $0) }
      secondMoments = firstMoments
    } else {
      firstMoments = []
      secondMoments = []
    }
  }

  /// Moves every parameter of `network` one step against its gradient.
  ///
  /// The moment updates follow PyTorch's single-tensor Adam operation for operation
  /// (`m ← m + (1 − β₁)(g − m)`, `v ← β₂ v + (1 − β₂) g²`), which is also Keras' arithmetic up
  /// to rounding; only ε's placement differs, as chosen.
  mutating func apply(
    _ gradients: [[Scalar]], to network: inout Network<Scalar>, learningRate: Double
  ) {
    step += 1
    switch optimizer {
    case .sgd:
      let rate = Scalar(learningRate)
      network.updateParameters { slot, parameters in
        let gradient = gradients[slot]
        precondition(gradient.count == parameters.count, "gradient \(slot) has the wrong size")
        gradient.withBase { g in
          parameters.withMutableBase { p in
            for i in 0..<gradient.count { p[i] -= rate * g[i] }
          }
        }
      }
    case .adam(let s):
      let t = Double(step)
      let correction1 = 1 - pow(s.beta1, t)
      let correction2 = 1 - pow(s.beta2, t)
      let decay1 = Scalar(1 - s.beta1)
      let beta2 = Scalar(s.beta2)
      let decay2 = Scalar(1 - s.beta2)
      let epsilon = Scalar(s.epsilon)
      // pytorch: p −= (lr/c₁) · m / (√v/√c₂ + ε);  keras: p −= (lr·√c₂/c₁) · m / (√v + ε).
      let stepSize: Scalar
      let rootDivisor: Scalar
      switch s.epsilonPlacement {
      case .pytorch:
        stepSize = Scalar(learningRate / correction1)
        rootDivisor = Scalar(correction2.squareRoot())
      case .keras:
        stepSize = Scalar(learningRate * correction2.squareRoot() / correction1)
        rootDivisor = 1
      }
      let update = AdamStep(
        decay1: decay1, beta2: beta2, decay2: decay2, epsilon: epsilon, stepSize: stepSize,
        rootDivisor: rootDivisor)
      network.updateAllParameters { parameters in
        let sizes = parameters.map(\.count)
        precondition(
          gradients.map(\.count) == sizes,
          "gradient sizes \(gradients.map(\.count)) != parameter sizes \(sizes)")
        // Every parameter's update reads and writes only its own four values, so the
        // concatenated parameters split into contiguous ranges, one per thread, give the same
        // bits at any thread count.
        withReadBases(gradients) { g in
          withMutableBases(&parameters) { p in
            withMutableBases(&firstMoments) { m in
              withMutableBases(&secondMoments) { v in
                forEachSlotRange(sizes: sizes, costPerItem: 4) { slot, values in
                  let first = values.lowerBound
                  update.apply(
                    g[slot] + first, p[slot] + first, m[slot] + first, v[slot] + first,
                    count: values.count)
                }
              }
            }
          }
        }
      }
    }
  }
}

/// One Adam update of a run of parameters, its constants fixed for the step.
private struct AdamStep<Scalar: GEMMScalar> {
  let decay1: Scalar
  let beta2: Scalar
  let decay2: Scalar
  let epsilon: Scalar
  let stepSize: Scalar
  let rootDivisor: Scalar

  /// Updates `count` parameters `p` and their moments `m`, `v` from gradients `g`.
  @inline(__always)
  func apply(
    _ g: UnsafePointer<Scalar>, _ p: UnsafeMutablePointer<Scalar>,
    _ m: UnsafeMutablePointer<Scalar>, _ v: UnsafeMutablePointer<Scalar>, count: Int
  ) {
    // Four parameters at a time, all loads before all stores (as `Lanes` does for Winograd's
    // transforms), so that the divisions run four to an instruction: written as one loop over
    // single parameters, the compiler cannot prove that p, m and v do not overlap, and each
    // parameter's two divisions and root were issued one by one (the root stays a scalar libm
    // call, which may set errno, either way). Every lane takes the same operations in the same
    // order as the loop below, so the bits do not change.
    let (stepSizes, epsilons) = (
      Lanes(stepSize, stepSize, stepSize, stepSize), Lanes(epsilon, epsilon, epsilon, epsilon)
    )
    // Keras' placement divides the root by 1, which changes no value: skipping it saves a
    // division per parameter (PyTorch's keeps it).
    let divides = rootDivisor != 1
    var i = 0
    while i &+ 4 <= count {
      let gi = Lanes(g + i)
      var mi = Lanes(m + i)
      var vi = Lanes(v + i)
      var pi = Lanes(p + i)
      mi = mi + decay1 * (gi - mi)
      vi = beta2 * vi + (decay2 * gi) * gi
      let root = divides ? vi.squareRoot() / rootDivisor : vi.squareRoot()
      pi = pi - stepSizes * (mi / (root + epsilons))
      mi.store(m + i)
      vi.store(v + i)
      pi.store(p + i)
      i &+= 4
    }
    while i < count {
      m[i] += decay1 * (g[i] - m[i])
      v[i] = beta2 * v[i] + decay2 * g[i] * g[i]
      let root = divides ? v[i].squareRoot() / rootDivisor : v[i].squareRoot()
      p[i] -= stepSize * (m[i] / (root + epsilon))
      i &+= 1
    }
  }
}

extension Lanes {
  @inline(__always)
  fileprivate static func * (l: Lanes, r: Lanes) -> Lanes {
    Lanes(l.a * r.a, l.b * r.b, l.c * r.c, l.d * r.d)
  }

  @inline(__always)
  fileprivate static func / (l: Lanes, r: Lanes) -> Lanes {
    Lanes(l.a / r.a, l.b / r.b, l.c / r.c, l.d / r.d)
  }

  @inline(__always)
  fileprivate static func / (l: Lanes, k: Scalar) -> Lanes {
    Lanes(l.a / k, l.b / k, l.c / k, l.d / k)
  }

  @inline(__always)
  fileprivate func squareRoot() -> Lanes {
    Lanes(a.squareRoot(), b.squareRoot(), c.squareRoot(), d.squareRoot())
  }
}

import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

// Implementation notes
// 1. Ioffe & Szegedy, "Batch Normalization: Accelerating Deep Network Training by Reducing
//    Internal Covariate Shift", ICML 2015, Algorithm 1 (forward) and §3 (backward): per channel,
//    x̂ = (x − μ_B) / √(σ²_B + ε), y = γ x̂ + β, with μ_B and the biased σ²_B over the batch's
//    N · H · W values of that channel. Maps are channel-major, so those values are one
//    contiguous run per channel.
// 2. The backward pass in its closed form: with M = N·H·W, ∂β = Σ ∂y, ∂γ = Σ ∂y · x̂ and
//    ∂x = γ / (M √(σ² + ε)) · (M ∂y − ∂β − x̂ ∂γ).
// 3. Running statistics as PyTorch keeps them (`nn.BatchNorm2d`, momentum 0.1): μ ← (1 − m) μ +
//    m μ_B and σ² ← (1 − m) σ² + m · σ²_B · M / (M − 1) (the unbiased batch variance).
//    Training returns the batch statistics instead of changing the layer (layers are values);
//    the training loop applies them after each step (`updatingRunningStatistics`).
// 4. Means and variances are accumulated in Double: a channel of a 224×224 batch holds
//    ~400 000 values, enough for Float sums to lose digits; the per-value work stays Float.
// 5. At inference the layer is the affine map y = a x + b with a = γ / √(σ² + ε) and
//    b = β − a μ; after a convolution it is folded into the convolution's weights and bias
//    (`Network.foldingBatchNorm()`), so it costs nothing.

/// Batch normalisation over the channels of feature maps (PyTorch's `nn.BatchNorm2d`, eps 1e-5,
/// momentum 0.1, affine).
///
/// In training (`forward`), each channel is normalised with its batch mean and variance and
/// the batch statistics are returned for the running averages; in inference
/// (`callAsFunction`), the running statistics are used, which makes the layer affine.
public struct BatchNorm2D<Scalar: GEMMScalar>: Sendable, Equatable {
  /// Channels normalised.
  public let channels: Int
  /// Added to the variance before the square root.
  public let epsilon: Double
  /// Weight of a new batch's statistics in the running averages.
  public let momentum: Double
  /// Scale γ, `[channels]` (a parameter).
  public var scale: [Scalar]
  /// Shift β, `[channels]` (a parameter).
  public var shift: [Scalar]
  /// Running mean, `[channels]` (a buffer, not learned by gradient).
  public var runningMean: [Scalar]
  /// Running (unbiased) variance, `[channels]` (a buffer).
  public var runningVariance: [Scalar]

  /// A layer with γ = 1, β = 0, running mean 0 and running variance 1 (PyTorch's initial state).
  public init(channels: Int, epsilon: Double = 1e-5, momentum: Double = 0.1) {
    self.init(
      channels: channels, epsilon: epsilon, momentum: momentum,
      scale: [Scalar](repeating: 1, count: channels),
      shift: [Scalar](repeating: 0, count: channels),
      runningMean: [Scalar](repeating: 0, count: channels),
      runningVariance: [Scalar](repeating: 1, count: channels))
  }

  /// A layer with the given parameters and running statistics.
  public init(
    channels: Int, epsilon: Double = 1e-5, momentum: Double = 0.1, scale: [Scalar],
    shift: [Scalar], runningMean: [Scalar], runningVariance: [Scalar]
  ) {
    precondition(channels > 0, "batch norm channels (\(channels)) must be > 0")
    precondition(
      scale.count == channels && shift.count == channels && runningMean.count == channels
        && runningVariance.count == channels,
      "batch norm arrays must hold \(channels) values each")
    precondition(epsilon > 0 && momentum >= 0 && momentum <= 1, "batch norm ε > 0, m in [0, 1]")
    self.channels = channels
    self.epsilon = epsilon
    self.momentum = momentum
    self.scale = scale
    self.shift = shift
    self.runningMean = runningMean
    self.runningVariance = runningVariance
  }

  /// The output has the input's shape; `nil` when the channel counts differ.
  public func outputShape(_ input: MapShape) -> MapShape? {
    input.channels == channels ? input : nil
  }

  /// The inference transform y = a x + b per channel (note 5), in Double.
  public var affine: (scale: [Double], shift: [Double]) {
    var a = [Double](repeating: 0, count: channels)
    var b = [Double](repeating: 0, count: channels)
    for c in 0..<channels {
      a[c] = Double(scale[c]) / (Double(runningVariance[c]) + epsilon).squareRoot()
      b[c] = Double(shift[c]) - a[c] * Double(runningMean[c])
    }
    return (a, b)
  }

  /// The inference output, with the running statistics.
  public func callAsFunction(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    precondition(input.shape.channels == channels, "batch norm of \(channels) got \(input.shape)")
    let (a, b) = affine
    let length = input.shape.count * input.shape.planeSize
    return input.storage.withBase { x in
      FeatureMaps(shape: input.shape) { y in
        forEachRange(channels, costPerItem: length) { range in
          for c in range {
            let (scale, shift) = (Scalar(a[c]), Scalar(b[c]))
            let from = x + c * length
            let to = y + c * length
            for i in 0..<length { to[i] = from[i] * scale + shift }
          }
        }
      }
    }
  }

  /// The batch's statistics of one layer, for the running averages.
  public struct BatchStatistics: Sendable, Equatable {
    /// Per-channel batch mean.
    public var mean: [Double]
    /// Per-channel biased batch variance.
    public var variance: [Double]
    /// Values per channel the statistics were taken over (N · H · W).
    public var count: Int

    /// Statistics of the given values.
    public init(mean: [Double], variance: [Double], count: Int) {
      self.mean = mean
      self.variance = variance
      self.count = count
    }

    /// The statistics of the union of batches (the pooled mean and biased variance), for a
    /// batch computed in shards: equal to the whole batch's up to rounding.
    public static func pooled(_ parts: [BatchStatistics]) -> BatchStatistics {
      precondition(!parts.isEmpty, "no statistics to pool")
      let total = parts.reduce(0) { $0 + $1.count }
      let channels = parts[0].mean.count
      var mean = [Double](repeating: 0, count: channels)
      var variance = [Double](repeating: 0, count: channels)
      for c in 0..<channels {
        for part in parts { mean[c] += part.mean[c] * Double(part.count) }
        mean[c] /= Double(total)
        for part in parts {
          let d = part.mean[c] - mean[c]
          variance[c] += (part.variance[c] + d * d) * Double(part.count)
        }
        variance[c] /= Double(total)
      }
      return BatchStatistics(mean: mean, variance: variance, count: total)
    }
  }

  /// What the backward pass needs: the normalised input x̂ and 1/√(σ²_B + ε) per channel.
  public struct Cache: Sendable {
    let normalized: FeatureMaps<Scalar>
    let inverseDeviation: [Double]
  }

  /// The training output (batch statistics, note 1), what `backward` needs, and the batch's
  /// statistics for the running averages.
  public func forward(_ input: FeatureMaps<Scalar>)
    -> (output: FeatureMaps<Scalar>, cache: Cache, statistics: BatchStatistics)
  {
    precondition(input.shape.channels == channels, "batch norm of \(channels) got \(input.shape)")
    let length = input.shape.count * input.shape.planeSize
    // Per channel: mean, biased variance and 1/√(σ² + ε), three Doubles side by side.
    var moments = [Double](repeating: 0, count: 3 * channels)
    input.storage.withBase { x in
      moments.withMutableBase { moments in
        forEachRange(channels, costPerItem: 2 * length) { range in
          for c in range {
            let from = x + c * length
            let mu = channelSum(from, length) { $0 } / Double(length)
            let sigma2 = channelSum(from, length) { ($0 - mu) * ($0 - mu) } / Double(length)
            moments[3 * c] = mu
            moments[3 * c + 1] = sigma2
            moments[3 * c + 2] = 1 / (sigma2 + epsilon).squareRoot()
          }
        }
      }
    }
    var normalized = [Scalar]()
    let output = input.storage.withBase { x in
      FeatureMaps<Scalar>(shape: input.shape) { y in
        normalized = [Scalar].filled(count: input.shape.valueCount) { xHat in
          forEachRange(channels, costPerItem: length) { range in
            for c in range {
              let (m, s) = (Scalar(moments[3 * c]), Scalar(moments[3 * c + 2]))
              let (g, b) = (scale[c], shift[c])
              let from = x + c * length
              let normalizedRun = xHat + c * length
              let out = y + c * length
              for i in 0..<length {
                let v = (from[i] - m) * s
                normalizedRun[i] = v
                out[i] = g * v + b
              }
            }
          }
        }
      }
    }
    let mean = (0..<channels).map { moments[3 * $0] }
    let variance = (0..<channels).map { moments[3 * $0 + 1] }
    let inverse = (0..<channels).map { moments[3 * $0 + 2] }
    return (
      output,
      Cache(
        normalized: FeatureMaps(shape: input.shape, storage: normalized),
        inverseDeviation: inverse),
      BatchStatistics(mean: mean, variance: variance, count: length)
    )
  }

  /// ∂loss/∂input (when asked) and ∂loss/∂γ, ∂loss/∂β (note 2).
  public func backward(
    _ outputGradient: FeatureMaps<Scalar>, cache: Cache, needsInputGradient: Bool = true
  ) -> (input: FeatureMaps<Scalar>?, parameters: ParameterGradient<Scalar>) {
    let shape = cache.normalized.shape
    precondition(outputGradient.shape == shape, "gradient \(outputGradient.shape) != \(shape)")
    let length = shape.count * shape.planeSize
    var scaleGradient = [Scalar](repeating: 0, count: channels)
    var shiftGradient = [Scalar](repeating: 0, count: channels)
    var input: FeatureMaps<Scalar>?
    outputGradient.storage.withBase { dy in
      cache.normalized.storage.withBase { xHat in
        var sums = [Double](repeating: 0, count: 2 * channels)
        sums.withMutableBase { sums in
          forEachRange(channels, costPerItem: 2 * length) { range in
            for c in range {
              let g = dy + c * length
              let h = xHat + c * length
              sums[2 * c] = channelSum(g, length) { $0 }
              sums[2 * c + 1] = channelProductSum(g, h, length)
            }
          }
        }
        for c in 0..<channels {
          shiftGradient[c] = Scalar(sums[2 * c])
          scaleGradient[c] = Scalar(sums[2 * c + 1])
        }
        guard needsInputGradient else { return }
        input = FeatureMaps(shape: shape) { dx in
          forEachRange(channels, costPerItem: length) { range in
            for c in range {
              let m = Double(length)
              let factor = Scalar(Double(scale[c]) * cache.inverseDeviation[c] / m)
              let dBeta = Scalar(sums[2 * c])
              let dGamma = Scalar(sums[2 * c + 1])
              let mm = Scalar(m)
              let g = dy + c * length
              let h = xHat + c * length
              let out = dx + c * length
              for i in 0..<length { out[i] = factor * (mm * g[i] - dBeta - h[i] * dGamma) }
            }
          }
        }
      }
    }
    return (input, ParameterGradient(weights: scaleGradient, bias: shiftGradient))
  }

  /// The layer with its running statistics moved toward a batch's (note 3).
  public func updatingRunningStatistics(_ batch: BatchStatistics) -> BatchNorm2D {
    var result = self
    let unbiased = batch.count > 1 ? Double(batch.count) / Double(batch.count - 1) : 1
    for c in 0..<channels {
      result.runningMean[c] = Scalar(
        (1 - momentum) * Double(runningMean[c]) + momentum * batch.mean[c])
      result.runningVariance[c] = Scalar(
        (1 - momentum) * Double(runningVariance[c]) + momentum * batch.variance[c] * unbiased)
    }
    return result
  }
}

/// Σ f(values[i]) over a channel's run, in Double with eight running sums: a single chain of
/// dependent additions cannot be vectorised and was a fifth of the resnet's training time;
/// eight independent sums in a fixed order are (the result depends only on the values).
@inline(__always)
private func channelSum<Scalar: GEMMScalar>(
  _ values: UnsafePointer<Scalar>, _ count: Int, _ f: (Double) -> Double
) -> Double {
  var partial = SIMD8<Double>()
  var i = 0
  while i + 8 <= count {
    partial += SIMD8<Double>(
      f(Double(values[i])), f(Double(values[i + 1])), f(Double(values[i + 2])),
      f(Double(values[i + 3])), f(Double(values[i + 4])), f(Double(values[i + 5])),
      f(Double(values[i + 6])), f(Double(values[i + 7])))
    i += 8
  }
  var sum = partial.sum()
  while i < count {
    sum += f(Double(values[i]))
    i += 1
  }
  return sum
}

/// Σ a[i] · b[i] over a channel's run, in Double with eight running sums (as `channelSum`).
@inline(__always)
private func channelProductSum<Scalar: GEMMScalar>(
  _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, _ count: Int
) -> Double {
  var partial = SIMD8<Double>()
  var i = 0
  while i + 8 <= count {
    var product = SIMD8<Double>()
    for k in 0..<8 { product[k] = Double(a[i + k]) * Double(b[i + k]) }
    partial += product
    i += 8
  }
  var sum = partial.sum()
  while i < count {
    sum += Double(a[i]) * Double(b[i])
    i += 1
  }
  return sum
}

import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

/// How a new network's weights are drawn; biases always start at 0.
///
/// Fans follow Keras and PyTorch: a dense layer's fan-in and fan-out are its input and output
/// counts; a convolution's are `inputChannels · kh · kw` and `filters · kh · kw`.
public enum WeightInitializer: String, Sendable, Codable, CaseIterable {
  /// Uniform on ±√(6 / (fanIn + fanOut)): Keras' default `glorot_uniform`, PyTorch's
  /// `xavier_uniform_`. Glorot & Bengio, "Understanding the difficulty of training deep
  /// feedforward neural networks", AISTATS 2010, eq. (16).
  case glorotUniform
  /// Uniform on ±√(6 / fanIn): Keras' `he_uniform`, PyTorch's `kaiming_uniform_` for ReLU.
  /// He, Zhang, Ren & Sun, "Delving Deep into Rectifiers", ICCV 2015, eq. (10): variance 2/fanIn.
  case heUniform
  /// Normal with variance 2 / fanIn, untruncated as PyTorch's `kaiming_normal_` (Keras'
  /// `he_normal` truncates at 2σ and rescales). He et al. 2015, eq. (10).
  case heNormal

  /// `count` weights for a layer with the given fans, drawn in order from `rng`.
  func weights<Scalar: GEMMScalar>(
    count: Int, fanIn: Int, fanOut: Int, using rng: inout some RandomNumberGenerator
  ) -> [Scalar] {
    switch self {
    case .glorotUniform:
      let limit = (6 / Double(fanIn + fanOut)).squareRoot()
      return (0..<count).map { _ in Scalar((2 * unitDouble(&rng) - 1) * limit) }
    case .heUniform:
      let limit = (6 / Double(fanIn)).squareRoot()
      return (0..<count).map { _ in Scalar((2 * unitDouble(&rng) - 1) * limit) }
    case .heNormal:
      let deviation = (2 / Double(fanIn)).squareRoot()
      return (0..<count).map { _ in Scalar(standardNormal(&rng) * deviation) }
    }
  }
}

/// A uniform double in [0, 1) from the top 53 bits of the generator's next word (the same
/// mapping as `SeededGenerator.nextUnitDouble`, for any generator).
func unitDouble(_ rng: inout some RandomNumberGenerator) -> Double {
  Double(rng.next() >> 11) * 0x1.0p-53
}

/// A standard normal deviate by the Box–Muller transform (one of the pair; simplicity over
/// speed: initialisation draws each weight once).
/// Box & Muller, "A Note on the Generation of Random Normal Deviates", Ann. Math. Stat. 29, 1958.
func standardNormal(_ rng: inout some RandomNumberGenerator) -> Double {
  let u1 = 1 - unitDouble(&rng)  // in (0, 1], so the logarithm is finite
  let u2 = unitDouble(&rng)
  return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
}

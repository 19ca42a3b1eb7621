import GlimpseCore

/// The rectifier `max(0, x)`, elementwise.
///
/// The derivative at 0 is taken as 0, as PyTorch's `threshold_backward` and Keras do: a unit
/// whose input is exactly 0 passes no gradient.
///
/// Nair & Hinton, "Rectified Linear Units Improve Restricted Boltzmann Machines", ICML 2010.
public struct ReLU: Sendable, Equatable {
  /// The layer (it has no parameters).
  public init() {}

  /// The output has the input's shape.
  public func outputShape(_ input: MapShape) -> MapShape? { input }

  /// The layer's output.
  public func callAsFunction<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>) -> FeatureMaps<
    Scalar
  > {
    input.storage.withBase { x in
      FeatureMaps(shape: input.shape) { y in
        forEachRange(input.shape.valueCount, costPerItem: 1) { range in
          for i in range { y[i] = x[i] > 0 ? x[i] : 0 }
        }
      }
    }
  }

  /// The output, which is also what `backward` needs (its positive entries are the mask).
  public func forward<Scalar: GEMMScalar>(_ input: FeatureMaps<Scalar>)
    -> (output: FeatureMaps<Scalar>, cache: FeatureMaps<Scalar>)
  {
    let output = self(input)
    return (output, output)
  }

  /// ∂loss/∂input: the output gradient where the output is positive, 0 elsewhere.
  public func backward<Scalar: GEMMScalar>(
    _ outputGradient: FeatureMaps<Scalar>, cache output: FeatureMaps<Scalar>
  )
    -> FeatureMaps<Scalar>
  {
    precondition(
      outputGradient.shape == output.shape,
      "output gradient \(outputGradient.shape) != output \(output.shape)")
    return output.storage.withBase { y in
      outputGradient.storage.withBase { g in
        FeatureMaps(shape: output.shape) { d in
          forEachRange(output.shape.valueCount, costPerItem: 1) { range in
            for i in range {
              // Both loads first: with the gradient loaded only when the output is positive,
              // the compiler keeps a branch (which mispredicts on half the values) instead of
              // a vector select.
              let gradient = g[i]
              let positive = y[i] > 0
              d[i] = positive ? gradient : 0
            }
          }
        }
      }
    }
  }
}

import GlimpseCore

/// A fully connected layer, `y = W x + b`, applied to a flat batch.
///
/// Mirrors PyTorch's `nn.Linear(in_features, out_features)`: weights are
/// `[outputs, inputs]`, PyTorch's layout (Keras stores the transpose). Its input is a flat
/// batch (`[inputs, count, 1, 1]`, what `Flatten` makes), so the whole batch is one GEMM
/// `[outputs, inputs] · [inputs, count]`.
public struct Dense<Scalar: GEMMScalar>: Sendable, Equatable {
  /// Features in.
  public let inputs: Int
  /// Features out.
  public let outputs: Int
  /// `[outputs, inputs]`, row-major.
  public var weights: [Scalar]
  /// `[outputs]`.
  public var bias: [Scalar]

  /// A layer with the given weights and biases.
  public init(inputs: Int, outputs: Int, weights: [Scalar], bias: [Scalar]) {
    precondition(inputs > 0 && outputs > 0, "dense sizes \(inputs)→\(outputs) must be > 0")
    precondition(
      weights.count == inputs * outputs,
      "weights.count (\(weights.count)) != outputs (\(outputs)) · inputs (\(inputs))")
    precondition(bias.count == outputs, "bias.count (\(bias.count)) != outputs (\(outputs))")
    self.inputs = inputs
    self.outputs = outputs
    self.weights = weights
    self.bias = bias
  }

  /// The output shape, or `nil` when the input is not a flat batch of `inputs` features.
  public func outputShape(_ input: MapShape) -> MapShape? {
    guard input.channels == inputs, input.height == 1, input.width == 1 else { return nil }
    return MapShape(channels: outputs, count: input.count, height: 1, width: 1)
  }

  /// What the backward pass needs: the input.
  public struct Cache: Sendable {
    let input: FeatureMaps<Scalar>
  }

  /// The layer's output.
  public func callAsFunction(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    forward(input).output
  }

  /// The output and what `backward` needs.
  public func forward(_ input: FeatureMaps<Scalar>) -> (output: FeatureMaps<Scalar>, cache: Cache) {
    guard let shape = outputShape(input.shape) else {
      preconditionFailure("dense \(inputs)→\(outputs) cannot take maps \(input.shape)")
    }
    let count = shape.count
    let output = weights.withBase { w in
      bias.withBase { b in
        input.storage.withBase { x in
          FeatureMaps(shape: shape) { y in
            fillRows(y, rows: outputs, length: count, values: b)
            Scalar.gemm(
              transposeA: false, transposeB: false, m: outputs, n: count, k: inputs, alpha: 1,
              a: w, lda: inputs, b: x, ldb: count, beta: 1, c: y, ldc: count)
          }
        }
      }
    }
    return (output, Cache(input: input))
  }

  /// Gradients of the loss with respect to the parameters and, when asked, the input:
  /// `∂W = ∂y · xᵀ`, `∂b = Σₙ ∂y`, `∂x = Wᵀ · ∂y`.
  public func backward(
    _ outputGradient: FeatureMaps<Scalar>, cache: Cache, needsInputGradient: Bool = true
  ) -> (input: FeatureMaps<Scalar>?, parameters: ParameterGradient<Scalar>) {
    guard let shape = outputShape(cache.input.shape), shape == outputGradient.shape else {
      preconditionFailure(
        "output gradient \(outputGradient.shape) does not fit input \(cache.input.shape)")
    }
    let count = shape.count
    var weightGradient = [Scalar]()
    var inputGradient: FeatureMaps<Scalar>? = nil
    let biasGradient = outputGradient.storage.withBase { dY in
      rowSums(dY, rows: outputs, length: count)
    }
    // GEMMs with beta = 0 write every value of C without reading it, so C starts unfilled.
    outputGradient.storage.withBase { dY in
      cache.input.storage.withBase { x in
        weightGradient = .filled(count: weights.count) { dW in
          Scalar.gemm(
            transposeA: false, transposeB: true, m: outputs, n: inputs, k: count, alpha: 1,
            a: dY, lda: count, b: x, ldb: count, beta: 0, c: dW, ldc: inputs)
        }
      }
      guard needsInputGradient else { return }
      inputGradient = weights.withBase { w in
        FeatureMaps(shape: cache.input.shape) { dX in
          Scalar.gemm(
            transposeA: true, transposeB: false, m: inputs, n: count, k: outputs, alpha: 1,
            a: w, lda: inputs, b: dY, ldb: count, beta: 0, c: dX, ldc: count)
        }
      }
    }
    return (inputGradient, ParameterGradient(weights: weightGradient, bias: biasGradient))
  }
}

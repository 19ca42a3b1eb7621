import GlimpseCore

/// A residual block, `y = ReLU(main(x) + shortcut(x))`, with `shortcut` the identity when it
/// has no layers.
///
/// He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016, §3.2–3.3:
/// the basic block (two 3×3 convolutions with batch normalisation) with a projection shortcut
/// (a strided 1×1 convolution and batch normalisation, their option B) where the shape changes,
/// as torchvision's `BasicBlock` builds it. The sum gives every block a path along which the
/// gradient passes unchanged, which is what lets deeper networks train.
public struct ResidualBlock<Scalar: GEMMScalar>: Sendable, Equatable {
  /// The main path, input first.
  public var main: [NetworkLayer<Scalar>]
  /// The shortcut path (empty: the identity).
  public var shortcut: [NetworkLayer<Scalar>]
  let mainOrder: [Int]
  let shortcutOrder: [Int]

  /// A block of the given paths (their outputs must have the same shape).
  public init(main: [NetworkLayer<Scalar>], shortcut: [NetworkLayer<Scalar>] = []) {
    precondition(!main.isEmpty, "a residual block needs a main path")
    self.main = main
    self.shortcut = shortcut
    mainOrder = LayerSequence.executionOrder(main)
    shortcutOrder = LayerSequence.executionOrder(shortcut)
  }

  /// The output shape, or `nil` when a path cannot take the input or the paths disagree.
  public func outputShape(_ input: MapShape) -> MapShape? {
    guard let mainShape = Self.chain(main, input) else { return nil }
    let shortcutShape = shortcut.isEmpty ? input : Self.chain(shortcut, input)
    return mainShape == shortcutShape ? mainShape : nil
  }

  private static func chain(_ layers: [NetworkLayer<Scalar>], _ input: MapShape) -> MapShape? {
    var shape = input
    for layer in layers {
      guard let next = layer.outputShape(shape) else { return nil }
      shape = next
    }
    return shape
  }

  /// Multiply-adds per image of both paths.
  public func multiplyAdds(_ input: MapShape) -> Int {
    LayerSequence.multiplyAdds(main, input) + LayerSequence.multiplyAdds(shortcut, input)
  }

  /// The inference output.
  public func callAsFunction(_ input: FeatureMaps<Scalar>) -> FeatureMaps<Scalar> {
    let a = LayerSequence.infer(main, order: mainOrder, input)
    let b = shortcut.isEmpty ? input : LayerSequence.infer(shortcut, order: shortcutOrder, input)
    return Self.rectifiedSum(a, b)
  }

  /// ReLU(a + b), elementwise.
  static func rectifiedSum(_ a: FeatureMaps<Scalar>, _ b: FeatureMaps<Scalar>)
    -> FeatureMaps<Scalar>
  {
    precondition(a.shape == b.shape, "residual paths give \(a.shape) and \(b.shape)")
    return a.storage.withBase { x in
      b.storage.withBase { y in
        FeatureMaps(shape: a.shape) { out in
          forEachRange(a.shape.valueCount, costPerItem: 1) { range in
            for i in range {
              let v = x[i] + y[i]
              out[i] = v > 0 ? v : 0
            }
          }
        }
      }
    }
  }

  /// The training output and its cache; batch statistics are appended to `statistics` (main
  /// path first, as `parameters` orders them).
  func forward(
    _ input: FeatureMaps<Scalar>, statistics: inout [BatchNorm2D<Scalar>.BatchStatistics]
  ) -> (output: FeatureMaps<Scalar>, cache: LayerCache<Scalar>) {
    let (a, mainCaches) = LayerSequence.forward(
      main, order: mainOrder, input, statistics: &statistics)
    var shortcutCaches: [LayerCache<Scalar>] = []
    var b = input
    if !shortcut.isEmpty {
      (b, shortcutCaches) = LayerSequence.forward(
        shortcut, order: shortcutOrder, input, statistics: &statistics)
    }
    let output = Self.rectifiedSum(a, b)
    return (output, .residual(main: mainCaches, shortcut: shortcutCaches, output: output))
  }

  /// Gradients of the parameters (main path's, then the shortcut's, in `parameterArrays`
  /// order) and, when asked, of the input: the sum of both paths' input gradients.
  func backward(
    _ outputGradient: FeatureMaps<Scalar>, main mainCaches: [LayerCache<Scalar>],
    shortcut shortcutCaches: [LayerCache<Scalar>], output: FeatureMaps<Scalar>,
    needsInputGradient: Bool
  ) -> (input: FeatureMaps<Scalar>?, parameters: [[Scalar]]) {
    // Through the final rectifier: the gradient where the output is positive.
    let gradient = ReLU().backward(outputGradient, cache: output)
    let (mainInput, mainParameters) = LayerSequence.backward(
      main, order: mainOrder, caches: mainCaches, gradient: gradient,
      needsInputGradient: needsInputGradient)
    var shortcutInput: FeatureMaps<Scalar>? = needsInputGradient ? gradient : nil
    var shortcutParameters: [[[Scalar]]] = []
    if !shortcut.isEmpty {
      (shortcutInput, shortcutParameters) = LayerSequence.backward(
        shortcut, order: shortcutOrder, caches: shortcutCaches, gradient: gradient,
        needsInputGradient: needsInputGradient)
    }
    let parameters = mainParameters.flatMap { $0 } + shortcutParameters.flatMap { $0 }
    guard needsInputGradient, var sum = mainInput, let other = shortcutInput else {
      return (nil, parameters)
    }
    precondition(sum.shape == other.shape, "residual input gradients differ in shape")
    sum.storage.withMutableBase { s in
      other.storage.withBase { o in
        forEachRange(sum.shape.valueCount, costPerItem: 1) { range in
          for i in range { s[i] += o[i] }
        }
      }
    }
    return (sum, parameters)
  }
}

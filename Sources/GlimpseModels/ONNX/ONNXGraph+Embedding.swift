// Implementation notes
// An imported classifier's embedding is what `glimpse embed` gives for a Glimpse CNN: the input
// of the last fully connected layer (the penultimate activations: a ResNet's pooled 512
// features, a MobileNet's 1280). In an exported graph that layer is a Gemm, or a MatMul followed
// by an Add of the bias (Keras, some TensorFlow exports), on the path from the first output back
// through the nodes that only reshape or normalise the scores (Identity, Dropout, Softmax,
// Flatten, Reshape). A graph that ends any other way (a 1×1 convolution as classifier, a
// pooling) has no such layer, and the embedding is refused rather than guessed.

extension ONNXGraph {
  /// Where an embedding is read: the slot of the last fully connected layer's data input and
  /// the words for it.
  struct EmbeddingSource: Sendable, Equatable {
    /// The slot whose value is the embedding.
    var slot: Int
    /// `the input of node 'fc' (Gemm)`.
    var description: String
  }

  /// The input of the last Gemm (or MatMul) before the first output, or `nil` when the graph
  /// does not end in a fully connected layer (notes above).
  var embeddingSource: EmbeddingSource? {
    guard var target = outputSlots.first else { return nil }
    for step in steps.reversed() where step.outputs.contains(target) {
      func firstComputedInput() -> Int? {
        step.inputs.lazy.compactMap { $0 }.first { initialSlots[$0] == nil }
      }
      switch step.op {
      case .gemm, .matMul:
        guard let input = step.inputs.first ?? nil, initialSlots[input] == nil else { return nil }
        return EmbeddingSource(
          slot: input, description: "the input of node '\(step.name)' (\(step.opType))")
      case .identity, .softmax, .flatten, .reshape:
        guard let input = step.inputs.first ?? nil else { return nil }
        target = input
      case .add:
        // A bias: one input computed, the other a constant.
        guard step.inputs.compactMap({ $0 }).filter({ initialSlots[$0] == nil }).count == 1,
          let input = firstComputedInput()
        else { return nil }
        target = input
      default:
        return nil
      }
    }
    return nil
  }
}

import GlimpseCore

// Implementation notes
// 1. Running averages with momentum 0.1 are what PyTorch keeps, but after a short training
//    (a few dozen steps on a few hundred images) they still remember their initial (0, 1) and
//    the weights of the early steps: a network that classifies its training batches perfectly
//    then scores near chance at inference. Wu & Johnson, "Rethinking 'Batch' in BatchNorm",
//    2021, §3 ("precise BN"), recompute the statistics once training ends from the final
//    weights over many batches. Here they are the exact population statistics: the mean and
//    variance of each normalisation layer's input over all the given images, with every layer
//    before it normalising by its batch's statistics as in training.
// 2. The pass runs in the training batches' size, so each layer's input is distributed as it
//    was in training; a batch's statistics are pooled into the population's exactly
//    (`BatchStatistics.pooled`), and the variance is stored unbiased as running variances are.

extension Network {
  /// Whether any layer is a batch normalisation.
  public var hasBatchNorm: Bool {
    func contains(_ layers: [NetworkLayer<Scalar>]) -> Bool {
      layers.contains { layer in
        switch layer {
        case .batchNorm: true
        case .residual(let block): contains(block.main) || contains(block.shortcut)
        default: false
        }
      }
    }
    return contains(layers)
  }

  /// The network with every batch normalisation's running statistics replaced by the
  /// population statistics of its input over `batches` (note 1).
  ///
  /// - Parameters:
  ///   - batches: How many batches there are.
  ///   - batch: The images of batch `b`, `[channels, count, height, width]`; called from
  ///     several threads at once (with OpenBLAS at 1 thread, the caller's duty).
  public func withPopulationStatistics(
    batches: Int, batch: (Int) -> FeatureMaps<Scalar>
  ) -> Network {
    guard hasBatchNorm, batches > 0 else { return self }
    // Batches side by side, one per thread (each batch's statistics do not depend on the
    // thread that computed them, and they are pooled in batch order).
    let perBatch = mapParts(batches, workers: ModelThreads.count) { b in
      var statistics: [BatchNorm2D<Scalar>.BatchStatistics] = []
      _ = LayerSequence.forward(layers, order: executionOrder, batch(b), statistics: &statistics)
      return statistics
    }
    let population = perBatch[0].indices.map { layer in
      BatchNorm2D<Scalar>.BatchStatistics.pooled(perBatch.map { $0[layer] })
    }
    var result = self
    var next = 0
    for index in result.layers.indices {
      result.layers[index].updateBatchNorms { norm in
        let statistics = population[next]
        let unbiased =
          statistics.count > 1 ? Double(statistics.count) / Double(statistics.count - 1) : 1
        for c in 0..<norm.channels {
          norm.runningMean[c] = Scalar(statistics.mean[c])
          norm.runningVariance[c] = Scalar(statistics.variance[c] * unbiased)
        }
        next += 1
      }
    }
    return result
  }
}

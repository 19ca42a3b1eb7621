import GlimpseCore

// Implementation notes
// 1. Data parallelism for one training step: the batch is cut into contiguous shards, each
//    shard's loss and gradients computed by `lossAndGradients` on its own thread, then combined.
//    With a batch of 32 the GEMMs are too small for OpenBLAS to split well over threads, and the
//    layers' loops fork and join a dozen times per step; a shard per thread pays one fork and
//    one join per step and keeps every GEMM single-threaded.
// 2. Loss and gradients are batch means, so a shard's are scaled by shardSize / batchSize
//    (with class weights, by the shard's weight sum / the batch's: a weighted mean of weighted
//    means) and added in shard order: a fixed order, so a given thread count always gives the
//    same bits. They differ from the whole batch's only by rounding (the sums run in another
//    order).
// 3. Callers run the shards with OpenBLAS at 1 thread (`CNNClassifier`'s training loop sets it),
//    so that n shards use n cores, not n × OpenBLAS's threads.

extension Network {
  /// Images per shard below which a batch is not split further.
  ///
  /// Measured on the seed network (28×28 digits, one thread, SkylakeX kernel), a training step
  /// costs 136–141 µs per image in batches of 8–32, 150 µs in batches of 4 and 178 µs in batches
  /// of 2: below 4 images the GEMMs get too narrow, and a third of the extra thread's time would
  /// go to overhead rather than images. Forking, joining and adding the shards' gradients (35 K
  /// values) cost ~20–40 µs per step, under 4 % of a 4-image shard. On 2 threads a batch of 8
  /// then trains in 175 ms per 2000 images against 213 ms unsplit; a batch of 32 is 2 shards
  /// of 16.
  static var minimumShardSize: Int { 4 }

  /// How many shards a batch of `count` images is split into on `threads` threads: one per
  /// thread, fewer when shards would hold less than `minimumShardSize` images, 1 for no split.
  static func shardCount(batch count: Int, threads: Int) -> Int {
    max(1, min(threads, count / minimumShardSize))
  }

  /// `lossAndGradients` of a batch computed as `shards` contiguous shards, one per thread,
  /// combined as batch means.
  ///
  /// - Parameters:
  ///   - shards: The number of shards (≥ 1); shard `s` holds images
  ///     `contiguousChunks(of: labels.count, parts: shards)[s]`.
  ///   - labels: The class of each image of the batch.
  ///   - classWeights: Per-class loss weights, as for `lossAndGradients(_:labels:classWeights:)`.
  ///   - input: The images of a range of the batch, `[channels, range.count, height, width]`.
  ///     Called once per shard, from the shard's thread.
  /// - Returns: The batch's mean loss, its correct count and its mean gradients, equal to
  ///   `lossAndGradients` on the whole batch up to rounding.
  func lossAndGradients(
    shards: Int, labels: [Int], classWeights: [Float]? = nil,
    input: (Range<Int>) -> FeatureMaps<Scalar>
  ) -> (loss: Double, correct: Int, gradients: [[Scalar]]) {
    let pass = trainingPass(
      shards: shards, labels: labels, classWeights: classWeights, input: input)
    return (pass.loss, pass.correct, pass.gradients)
  }

  /// `trainingPass` of a batch computed as `shards` contiguous shards, one per thread, combined
  /// as batch means; each shard's batch normalisation uses the shard's statistics (as PyTorch's
  /// `DataParallel` does without synchronised batch norm), and the statistics returned are the
  /// shards' pooled, which are the whole batch's up to rounding.
  func trainingPass(
    shards: Int, labels: [Int], classWeights: [Float]? = nil,
    input: (Range<Int>) -> FeatureMaps<Scalar>
  ) -> TrainingPass<Scalar> {
    let count = labels.count
    let ranges = contiguousChunks(of: count, parts: shards)
    precondition(!ranges.isEmpty, "a batch of \(count) images cannot be split into shards")
    let parts = mapParts(ranges.count, workers: ranges.count) { part in
      let range = ranges[part]
      return trainingPass(
        input(range), labels: Array(labels[range]), classWeights: classWeights)
    }
    let statistics = parts[0].statistics.indices.map { layer in
      BatchNorm2D<Scalar>.BatchStatistics.pooled(parts.map { $0.statistics[layer] })
    }
    var loss = 0.0
    var correct = 0
    var scales: [Scalar] = []
    // Without weights these are range.count and count, exactly.
    let entropy = SoftmaxCrossEntropy()
    let total = entropy.weightSum(labels: labels, classWeights: classWeights)
    for (range, part) in zip(ranges, parts) {
      let weight = entropy.weightSum(labels: Array(labels[range]), classWeights: classWeights)
      let share = weight / total
      loss += part.loss * share
      correct += part.correct
      scales.append(Scalar(share))
    }
    let sizes = parts[0].gradients.map(\.count)
    for part in parts {
      precondition(part.gradients.map(\.count) == sizes, "shards' gradients differ in size")
    }
    // Σ_s share_s · g_s per value, shards in order (the first scaled, each next one's scaled
    // value added): the same operations at any thread count. Split over the slots' values on
    // the threads the shards used, as the optimiser's step is.
    var gradients = sizes.map { size in
      [Scalar](unsafeUninitializedCapacity: size) { _, n in n = size }
    }
    let shardGradients = parts.map(\.gradients)
    withMutableBases(&gradients) { sums in
      forEachSlotRange(sizes: sizes, costPerItem: 2 * parts.count) { slot, values in
        let sum = sums[slot]
        shardGradients[0][slot].withBase { g in
          for i in values { sum[i] = g[i] * scales[0] }
        }
        for shard in 1..<shardGradients.count {
          let scale = scales[shard]
          shardGradients[shard][slot].withBase { g in
            for i in values { sum[i] += scale * g[i] }
          }
        }
      }
    }
    return TrainingPass(
      loss: loss, correct: correct, gradients: gradients, statistics: statistics)
  }
}

import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// Data-parallel training and parallel inference. `Parallelism.threadCount` is fixed for the
/// process, so the tests choose the worker count by binding `ModelThreads.count`.
@Suite("CNN data-parallel training and inference")
struct CNNShardedTrainingTests {
  /// A freshly initialised network for 12×12 bars and a batch of `count` of them.
  static func networkAndBatch(_ architecture: Architecture, count: Int) throws -> (
    network: Network<Float>, data: Dataset
  ) {
    let data = Bars.dataset(count: count, seed: 11)
    let shape = try #require(data.imageShape)
    var rng = SeededGenerator(seed: 12)
    let network: Network<Float> = try #require(
      architecture.makeNetwork(
        input: shape, classes: 2, initializer: .glorotUniform, using: &rng))
    return (network, data)
  }

  @Test(
    "sharded loss, correct count and gradients equal the whole batch's up to Float rounding",
    arguments: [Architecture.seed, .standard], [(24, 2), (25, 2), (25, 3), (32, 4)])
  func shardsCombineToTheWholeBatch(architecture: Architecture, split: (batch: Int, shards: Int))
    throws
  {
    let (network, data) = try Self.networkAndBatch(architecture, count: split.batch)
    let shape = try #require(data.imageShape)
    let whole = network.lossAndGradients(
      FeatureMaps(images: data.features, rows: 0..<data.count, shape: shape), labels: data.labels)
    let sharded = network.lossAndGradients(shards: split.shards, labels: data.labels) { range in
      FeatureMaps(images: data.features, rows: range, shape: shape)
    }
    // The loss is summed in Double from Float scores; the shards' GEMMs sum the same products in
    // another order, so scores differ by a few Float ulps (~1e-7 relative).
    #expect(abs(sharded.loss - whole.loss) < 1e-6 * max(1, whole.loss))
    #expect(sharded.correct == whole.correct)
    #expect(sharded.gradients.map(\.count) == whole.gradients.map(\.count))
    // Gradients are sums over the batch's images (and, for convolutions, their pixels: up to
    // ~3000 terms) in Float: reordering them moves each by at most a few hundred ulps of the
    // largest term. 1e-4 of the array's largest gradient is far above that and far below any
    // real error (a missing or doubly counted shard changes gradients by ~50 %).
    for (slot, (a, b)) in zip(sharded.gradients, whole.gradients).enumerated() {
      let scale = Double(b.map { abs($0) }.max() ?? 0)
      let difference = maxAbsoluteDifference(a.map(Double.init), b.map(Double.init))
      #expect(difference <= 1e-4 * scale, "parameter array \(slot): \(difference) vs \(scale)")
    }
  }

  @Test("one shard is the whole batch, bit for bit")
  func oneShardIsTheWholeBatch() throws {
    let (network, data) = try Self.networkAndBatch(.seed, count: 16)
    let shape = try #require(data.imageShape)
    let whole = network.lossAndGradients(
      FeatureMaps(images: data.features, rows: 0..<data.count, shape: shape), labels: data.labels)
    let single = network.lossAndGradients(shards: 1, labels: data.labels) { range in
      FeatureMaps(images: data.features, rows: range, shape: shape)
    }
    #expect(single.loss == whole.loss)
    #expect(single.correct == whole.correct)
    #expect(single.gradients == whole.gradients)
  }

  @Test("batches are split one shard per thread, never below the minimum shard size")
  func shardCountsFollowTheRule() {
    let minimum = Network<Float>.minimumShardSize
    #expect(Network<Float>.shardCount(batch: 32, threads: 1) == 1)
    #expect(Network<Float>.shardCount(batch: 32, threads: 2) == 2)
    #expect(Network<Float>.shardCount(batch: 32, threads: 64) == 32 / minimum)
    #expect(Network<Float>.shardCount(batch: 2 * minimum - 1, threads: 2) == 1)
    #expect(Network<Float>.shardCount(batch: 1, threads: 2) == 1)
  }

  @Test(
    "training on 2 threads is deterministic: two runs give the same weights and history",
    arguments: [Architecture.seed, .standard])
  func shardedTrainingIsDeterministic(architecture: Architecture) throws {
    // 36 rows in batches of 16: two split batches and a short one (4) that is not split.
    let train = Bars.dataset(count: 36, seed: 13)
    var h = Bars.recipe(architecture, epochs: 2)
    h.batchSize = 16
    h.maxShift = 1  // the shifts of each shard are its slice of the batch's
    func fit() throws -> CNNClassifier {
      var rng = SeededGenerator(seed: 14)
      return try ModelThreads.$count.withValue(2) {
        try CNNClassifier.fit(train, hyperparameters: h, using: &rng)
      }
    }
    let a = try fit()
    let b = try fit()
    #expect(a.network == b.network)
    #expect(a.history == b.history)
  }

  @Test("training on 2 threads takes the same steps as on 1, up to rounding")
  func shardedTrainingFollowsTheSingleThreadedRun() throws {
    let train = Bars.dataset(count: 32, seed: 15)
    var h = Bars.recipe(.seed, epochs: 1)
    h.batchSize = 16
    h.learningRate = 1e-3
    func fit(threads: Int) throws -> CNNClassifier {
      var rng = SeededGenerator(seed: 16)
      return try ModelThreads.$count.withValue(threads) {
        try CNNClassifier.fit(train, hyperparameters: h, using: &rng)
      }
    }
    let one = try fit(threads: 1)
    let two = try fit(threads: 2)
    // Two Adam steps of 1e-3 from the same weights: the rounding of the gradients moves each
    // weight by far less than a step (Adam's step is ~lr whatever the gradient's size, so only
    // components whose gradient is near 0 can differ by up to ~lr; none do by more than 2 lr).
    for (slot, (a, b)) in zip(two.network.parameters, one.network.parameters).enumerated() {
      let difference = maxAbsoluteDifference(a.map(Double.init), b.map(Double.init))
      #expect(difference < 2e-3, "parameter array \(slot)")
    }
    #expect(abs(two.history[0].loss - one.history[0].loss) < 1e-5)
  }

  @Test(
    "probabilities and embeddings are the same bits on 1, 2 and 3 workers",
    arguments: [Architecture.seed, .standard])
  func inferenceIsTheSameAtAnyWorkerCount(architecture: Architecture) throws {
    let train = Bars.dataset(count: 16, seed: 17)
    var rng = SeededGenerator(seed: 18)
    let model = try CNNClassifier.fit(
      train, hyperparameters: Bars.recipe(architecture, epochs: 1), using: &rng)
    // Several batches and a short last one, so that workers share them unevenly.
    let rows = 3 * model.inferenceBatchSize + 5
    let images = Bars.dataset(count: rows, seed: 19).features
    let results = [1, 2, 3].map { workers in
      ModelThreads.$count.withValue(workers) {
        (model.predictProbabilities(images), model.embed(images))
      }
    }
    #expect(results[0].0.rows == rows)
    for (probabilities, embeddings) in results.dropFirst() {
      #expect(probabilities == results[0].0)
      #expect(embeddings == results[0].1)
    }
  }
}

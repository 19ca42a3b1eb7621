import GlimpseCore
import Testing

@testable import GlimpseValuation

@Suite("Data-OOB (Kwon & Zou 2023) against a direct computation on the same bags")
struct DataOutOfBagTests {
  static let game = OneNearestNeighborGame(count: 30, classes: 3, seed: 5)

  @Test(
    "Each value is the mean 0/1 correctness of 1-NN fitted by brute force on the bags that missed the point (same seeds), to 1e-12"
  )
  func matchesDirectComputation() throws {
    let game = Self.game
    let bags = 60
    let seed: UInt64 = 9
    var job = ValuationJob(method: .dataOOB, model: LearnerFamily(.knn, k: 1))
    job.seed = seed
    let result = try game.run(job, samples: bags)
    #expect(result.method == "data-oob")
    // The direct computation: bag b is n draws with replacement from stream b of the seed.
    var hits = [Double](repeating: 0, count: game.n)
    var counts = [Int](repeating: 0, count: game.n)
    for b in 0..<bags {
      var rng = SeededGenerator(seed: seed).stream(UInt64(b))
      let drawn = Set((0..<game.n).map { _ in Int.random(in: 0..<game.n, using: &rng) })
      for point in 0..<game.n where !drawn.contains(point) {
        var best = -1
        var bestDistance = Double.infinity
        for other in drawn.sorted() {
          let dx = game.training.features[other, 0] - game.training.features[point, 0]
          let dy = game.training.features[other, 1] - game.training.features[point, 1]
          if dx * dx + dy * dy < bestDistance {
            bestDistance = dx * dx + dy * dy
            best = other
          }
        }
        counts[point] += 1
        if game.training.labels[best] == game.training.labels[point] { hits[point] += 1 }
      }
    }
    #expect(result.sampleCounts == counts)
    let direct = (0..<game.n).map { counts[$0] == 0 ? 0 : hits[$0] / Double(counts[$0]) }
    #expect(maximumDifference(result.values, direct) < 1e-12)
  }

  @Test("Data-OOB values are bit-identical on 1 and 2 threads and over two shards")
  func threadAndShardInvariance() {
    let game = Self.game
    let oob = DataOutOfBag(seed: 3)
    let family = LearnerFamily(.logistic)
    func run(threads: Int, shard: Shard = .whole) -> MonteCarloState {
      oob.run(
        model: family, training: game.training,
        options: MonteCarloOptions(stopping: .maxSamples(24), threads: threads, shard: shard)
      ).1
    }
    let one = run(threads: 1)
    let two = run(threads: 2)
    #expect(one.accumulator == two.accumulator)
    var merged = run(threads: 1, shard: Shard(index: 0, count: 2)).accumulator
    merged.merge(run(threads: 1, shard: Shard(index: 1, count: 2)).accumulator)
    #expect(merged == one.accumulator)
  }
}

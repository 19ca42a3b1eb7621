import Foundation
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// The PyTorch anchor's run (`cnn_anchor.py`), as committed by
/// `Fixtures/scripts/make_cnn_fixtures.py` in `Fixtures/cnn/`.
enum CNNAnchor {
  static let directory = TestPaths.fixtures("GlimpseModelsTests") + "/cnn"

  struct Rows: Decodable {
    var train: [Int]
    var test: [Int]
  }

  // The property names are the fixture's JSON keys.
  // swift-format-ignore: AlwaysUseLowerCamelCase
  struct Log: Decodable {
    var loss: [Double]
    var accuracy: [Double]
    var test_acc: Double
  }

  // The property names are the fixture's JSON keys.
  // swift-format-ignore: AlwaysUseLowerCamelCase
  struct NumPyReplay: Decodable {
    var first_batch_losses: [Double]
    var epoch_loss: [Double]
    var epoch_accuracy: [Double]
  }

  // The property names are the fixture's JSON keys.
  // swift-format-ignore: AlwaysUseLowerCamelCase
  struct Replay: Decodable {
    var parameter_names: [String]
    var parameter_counts: [Int]
    var anchor: [String: Log]
    var numpy_float64: NumPyReplay
  }

  /// The 4000 training rows in the anchor's order and the 1000 test rows.
  static func rows() throws -> Rows {
    try loadJSON(Rows.self, from: directory + "/train_rows.json")
  }

  static func replay() throws -> Replay {
    try loadJSON(Replay.self, from: directory + "/anchor_replay.json")
  }

  /// The anchor's initial weights and biases, in `Network.parameters` order.
  static func initialParameters(counts: [Int]) throws -> [[Float]] {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/anchor_init.f32"))
    let values = (0..<(bytes.count / 4)).map { i in
      Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[4 * i + $1]) << (8 * $1) })
    }
    precondition(values.count == counts.reduce(0, +), "anchor_init.f32 has \(values.count) values")
    var start = 0
    return counts.map { count in
      defer { start += count }
      return Array(values[start..<(start + count)])
    }
  }

  /// The anchor's epoch orders: positions into the training rows, 10 × 4000.
  static func epochOrders() throws -> [[Int]] {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/anchor_orders.i16"))
    let values = (0..<(bytes.count / 2)).map { i in
      Int(Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8))
    }
    return stride(from: 0, to: values.count, by: 4000).map { Array(values[$0..<($0 + 4000)]) }
  }

  /// The sample digits (pixels/255, 28×28×1), read once per test process.
  static let digits: Dataset = {
    var options = ReadOptions()
    options.labelsPath = TestPaths.samples + "/mnist/mnist-lbls-mini.csv.bz2"
    do {
      return try TableDatasetReader.read(
        TestPaths.samples + "/mnist/mnist-imgs-mini.csv.bz2", options: options)
    } catch {
      preconditionFailure("cannot read the sample digits: \(error)")
    }
  }()
}

@Suite("CNN replay of the PyTorch anchor")
struct CNNReplayTests {
  @Test(
    "the fixture's training list is the anchor's: perm[:1000] + perm[2000:], disjoint from test")
  func trainingListIsTheAnchors() throws {
    let rows = try CNNAnchor.rows()
    #expect(rows.train.count == 4000 && rows.test.count == 1000)
    #expect(Set(rows.train).isDisjoint(with: rows.test))
    #expect(Set(rows.train + rows.test) == Set(0..<5000))
    struct Split: Decodable { var train: [Int] }
    let split = try loadJSON(Split.self, from: TestPaths.samples + "/mnist/split.json")
    #expect(Array(rows.train.prefix(1000)) == split.train)
  }

  @Test("the anchor's weights load into the seed network: PyTorch's shapes, 34,666 parameters")
  func anchorWeightsFitTheSeedNetwork() throws {
    let replay = try CNNAnchor.replay()
    var rng = SeededGenerator(seed: 0)
    let network: Network<Float> = try #require(
      Architecture.seed.makeNetwork(
        input: ImageShape(height: 28, width: 28), classes: 10, initializer: .glorotUniform,
        using: &rng))
    #expect(network.parameters.map(\.count) == replay.parameter_counts)
    #expect(network.parameterCount == 34_666)
    #expect(network.embeddingSize == 1600)
    // 0.weight, 3.weight, 7.weight are the seed network's layers 0, 3 and 7, as in PyTorch.
    let archived = CNNClassifier(
      hyperparameters: .seed, classNames: (0..<10).map(String.init), network: network, history: []
    )
    .archive()
    #expect(Set(replay.parameter_names).isSubset(of: archived.doubles.keys))
  }

  /// The first 16 batches of the anchor's first epoch, from its initial weights, against the
  /// NumPy float64 replay of the same batches (whose epoch losses agree with PyTorch's log to
  /// 2e-5 in epoch 1; see the fixture script).
  ///
  /// Tolerance 1e-6 absolute on losses of 2.3 → 2.1. The first batch sees identical weights,
  /// so it differs only by Float32 rounding (observed 1e-9); each Adam step then moves every
  /// weight by about lr = 1e-3 whatever the gradient's size, so rounding differences in small
  /// gradient components reach the weights and the losses drift apart slowly (observed at most
  /// 2e-8 over the 16 batches, at 1 and 2 threads). A wrong layout, gradient or update changes
  /// these losses by 1e-3 or more from the second batch on.
  @Test(
    "replaying the anchor's initial weights and batch order gives the reference loss, batch by batch"
  )
  func replayMatchesReferenceLossesBatchByBatch() throws {
    let replay = try CNNAnchor.replay()
    let rows = try CNNAnchor.rows()
    let order = try CNNAnchor.epochOrders()[0]
    let digits = CNNAnchor.digits
    let shape = try #require(digits.imageShape)
    var rng = SeededGenerator(seed: 0)
    var network: Network<Float> = try #require(
      Architecture.seed.makeNetwork(
        input: shape, classes: 10, initializer: .glorotUniform, using: &rng))
    network.setParameters(try CNNAnchor.initialParameters(counts: replay.parameter_counts))
    guard case .adam(let settings) = CNNClassifier.Hyperparameters.seed.optimizer else {
      Issue.record("the seed recipe does not use Adam")
      return
    }
    #expect(
      settings == AdamSettings(beta1: 0.9, beta2: 0.999, epsilon: 1e-7, epsilonPlacement: .pytorch))
    var optimizer = OptimizerState<Float>(.adam(settings), sizes: replay.parameter_counts)
    var losses: [Double] = []
    for batch in 0..<replay.numpy_float64.first_batch_losses.count {
      let batchRows = order[(32 * batch)..<(32 * batch + 32)].map { rows.train[$0] }
      let input = FeatureMaps<Float>(images: digits.features, rows: batchRows, shape: shape)
      let (loss, _, gradients) = network.lossAndGradients(
        input, labels: batchRows.map { digits.labels[$0] })
      optimizer.apply(gradients, to: &network, learningRate: 1e-3)
      losses.append(loss)
    }
    let reference = replay.numpy_float64.first_batch_losses
    let difference = maxAbsoluteDifference(losses, reference)
    #expect(difference < 1e-6, "losses \(losses) vs \(reference)")
    #expect(losses.last! < losses.first! - 0.1)  // it learns: 2.29 → 2.11 in 16 steps
  }
}

import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

/// Models on 8-bit datasets (issue #16, item 3): trained and scored from the codes, they give
/// the bits they give on the same values stored as `Double`; a dataset scored in chunks gives
/// the bits of one call.
@Suite("Models on 8-bit datasets")
struct Dataset8BitModelTests {
  /// Bars (`Bars.dataset`) quantised to 8 bits, stored both ways.
  static func pair(
    count: Int, side: Int = 12, channels: Int, seed: UInt64
  ) -> (pixels: Dataset, doubles: Dataset) {
    let bars = Bars.dataset(count: count, side: side, channels: channels, seed: seed)
    let shape = bars.imageShape!
    let codes = (0..<bars.count).flatMap {
      Image(shape: shape, pixels: Array(bars.features.row($0))).eightBitSamples()
    }
    let pixels = Dataset(
      rows: .pixels(PixelRows(rows: bars.count, columns: shape.valueCount, codes: codes)),
      labels: bars.labels, classNames: bars.classNames, imageShape: shape, sources: bars.sources)
    let doubles = Dataset(
      features: Matrix(
        rows: bars.count, columns: shape.valueCount,
        storage: (0..<bars.count).flatMap {
          Image(
            shape: shape,
            eightBitSamples: Array(codes[$0 * shape.valueCount..<($0 + 1) * shape.valueCount])
          ).pixels
        }),
      labels: bars.labels, classNames: bars.classNames, imageShape: shape, sources: bars.sources)
    return (pixels, doubles)
  }

  @Test(
    "a CNN trained on 8-bit rows is the one trained on their doubles; its probabilities and embedding agree bit for bit",
    arguments: [1, 3])
  func cnn(channels: Int) throws {
    let (train, trainDoubles) = Self.pair(count: 24, channels: channels, seed: 1)
    let (test, testDoubles) = Self.pair(count: 21, channels: channels, seed: 2)
    var rng = SeededGenerator(seed: 3)
    let fromCodes = try CNNClassifier.fit(
      train, hyperparameters: Bars.recipe(.standard, epochs: 2), using: &rng)
    rng = SeededGenerator(seed: 3)
    let fromDoubles = try CNNClassifier.fit(
      trainDoubles, hyperparameters: Bars.recipe(.standard, epochs: 2), using: &rng)
    #expect(fromCodes.history == fromDoubles.history)
    #expect(fromCodes.archive() == fromDoubles.archive())
    let oneShot = fromDoubles.predictProbabilities(testDoubles.features)
    #expect(fromCodes.predictProbabilities(test.pixelCodes!) == oneShot)
    #expect(fromCodes.predictProbabilities(test) == oneShot)
    #expect(fromCodes.predict(test) == fromDoubles.predict(testDoubles.features))
    #expect(fromCodes.embed(test) == fromDoubles.embed(testDoubles.features))
  }

  @Test("CNN: a dataset scored in chunks of whole inference batches gives the bits of one call")
  func cnnChunks() throws {
    // 40×40 images: the standard network's inference batch is a few images, so chunks of a
    // few batches cut the 23 rows in several places.
    let (train, _) = Self.pair(count: 8, side: 40, channels: 1, seed: 6)
    let (test, testDoubles) = Self.pair(count: 23, side: 40, channels: 1, seed: 7)
    var rng = SeededGenerator(seed: 3)
    let model = try CNNClassifier.fit(
      train, hyperparameters: Bars.recipe(.standard, epochs: 1), using: &rng)
    let batch = model.inferenceBatchSize
    #expect(batch < 12)
    #expect(model.chunkRows % batch == 0)
    let oneShot = model.predictProbabilities(testDoubles.features)
    let embedding = model.embed(testDoubles.features)
    for chunk in [batch, 2 * batch, model.chunkRows] {
      #expect(model.predictProbabilities(test, chunkRows: chunk) == oneShot)
      #expect(model.predictProbabilities(testDoubles, chunkRows: chunk) == oneShot)
      #expect(model.embed(test, chunkRows: chunk) == embedding)
    }
  }

  @Test(
    "logistic regression, k-NN and the SVM fit and score 8-bit rows as their doubles; chunks of 16 or 32 rows (whole OpenBLAS register blocks) give the bits of one call"
  )
  func otherModels() throws {
    let (train, trainDoubles) = Self.pair(count: 30, channels: 1, seed: 4)
    let (test, testDoubles) = Self.pair(count: 53, channels: 1, seed: 5)
    var rng = SeededGenerator(seed: 0)
    let logistic = try LogisticRegression.fit(train, hyperparameters: .init(), using: &rng)
    rng = SeededGenerator(seed: 0)
    let logisticDoubles = try LogisticRegression.fit(
      trainDoubles, hyperparameters: .init(), using: &rng)
    #expect(logistic.archive() == logisticDoubles.archive())
    let knn = try KNearestNeighbors.fit(train, hyperparameters: .init(k: 3), using: &rng)
    rng = SeededGenerator(seed: 1)
    let svm = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
    rng = SeededGenerator(seed: 1)
    let svmDoubles = try SVMClassifier.fit(trainDoubles, hyperparameters: .init(), using: &rng)
    #expect(svm.archive() == svmDoubles.archive())
    let models: [any Classifier] = [logistic, knn, svm]
    for model in models {
      let kind = type(of: model).kind
      let oneShot = model.predictProbabilities(testDoubles.features)
      #expect(model.predictProbabilities(test) == oneShot, "\(kind)")
      for chunk in [16, 32] {
        #expect(model.predictProbabilities(test, chunkRows: chunk) == oneShot, "\(kind)")
        #expect(
          model.predict(test, chunkRows: chunk) == model.predict(testDoubles.features), "\(kind)")
      }
    }
    let (probabilities, votes) = svm.predictProbabilitiesAndVotes(test, chunkRows: 16)
    let whole = svm.predictProbabilitiesAndVotes(testDoubles.features)
    #expect(probabilities == whole.probabilities)
    #expect(votes == whole.votes)
  }
}

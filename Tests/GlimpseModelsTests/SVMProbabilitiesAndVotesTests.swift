import GlimpseCore
import GlimpseTestSupport
import Testing

@testable import GlimpseModels

@Suite("SVM probabilities and votes from one kernel evaluation")
struct SVMProbabilitiesAndVotesTests {
  @Test("predictProbabilitiesAndVotes equals predictProbabilities and predict called apart")
  func sameAsSeparateCalls() throws {
    var hyperparameters = SVMClassifier.Hyperparameters()
    hyperparameters.probability = true
    let data = Digits.subset(Array(stride(from: 0, to: 5000, by: 25)), classes: Array(0...9))
    var rng = SeededGenerator(seed: 2)
    let model = try SVMClassifier.fit(data, hyperparameters: hyperparameters, using: &rng)
    let test = Digits.subset(Array(stride(from: 7, to: 5000, by: 50)), classes: Array(0...9))
      .features
    let (probabilities, votes) = model.predictProbabilitiesAndVotes(test)
    #expect(probabilities == model.predictProbabilities(test))
    #expect(votes == model.predict(test))
  }
}

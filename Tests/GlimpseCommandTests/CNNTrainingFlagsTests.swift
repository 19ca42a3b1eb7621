import Foundation
import GlimpseCore
import GlimpseModels
import GlimpseTestSupport
import Testing

@testable import glimpse

/// `glimpse train --model cnn`'s recipe flags: they override the architecture's recipe, and
/// misuse is one usage line.
@Suite("Command line: CNN training flags")
struct CNNTrainingFlagsTests {
  static let digits = ImageShape(height: 28, width: 28, channels: 1)
  static let textures = ImageShape(height: 224, width: 224, channels: 1)

  static func hyperparameters(_ arguments: [String], shape: ImageShape = digits) throws
    -> CNNClassifier.Hyperparameters
  {
    let command = try TrainCommand.parse(
      ["data", "--model", "cnn", "--out", "m.glimpse"] + arguments)
    return try command.modelOptions.cnnHyperparameters(for: shape)
  }

  @Test(
    "without flags the recipe is the architecture's: standard up to 32×32, resnet's large-image recipe above"
  )
  func noFlagsNoChange() throws {
    #expect(try Self.hyperparameters([]) == CNNClassifier.Hyperparameters())
    #expect(try Self.hyperparameters(["--architecture", "seed"]) == .seed)
    #expect(try Self.hyperparameters([], shape: Self.textures) == .largeImages)
    #expect(CNNClassifier.Hyperparameters.largeImages.architecture == .resnet)
    #expect(
      try Self.hyperparameters(["--architecture", "standard"], shape: Self.textures)
        == CNNClassifier.Hyperparameters())
    // The large-image recipe's split takes --patience; the flags override it.
    let h = try Self.hyperparameters(
      ["--patience", "2", "--augment", "none", "--validation-fraction", "0.3"],
      shape: Self.textures)
    #expect(h.patience == 2 && h.augmentation == .none && h.validationFraction == 0.3)
    #expect(throws: (any Error).self) {
      try Self.hyperparameters(
        ["--patience", "2", "--validation-fraction", "0"], shape: Self.textures)
    }
    #expect(throws: (any Error).self) { try Self.hyperparameters(["--patience", "2"]) }
  }

  @Test("each flag sets its part of the recipe")
  func flagsOverride() throws {
    let h = try Self.hyperparameters([
      "--augment", "crop-flip", "--validation-fraction", "0.2", "--patience", "4",
      "--class-weights", "balanced", "--schedule", "step", "--epochs", "12",
    ])
    #expect(h.augmentation == .standardCropFlip)
    #expect(h.validationFraction == 0.2 && h.patience == 4)
    #expect(h.classWeighting == .balanced)
    #expect(h.schedule == .stepDecay(epochs: 4, factor: 0.1))
    #expect(try Self.hyperparameters(["--augment", "none"]).augmentation == .none)
    #expect(
      try Self.hyperparameters(["--architecture", "seed", "--augment", "shift"]).augmentation
        == .digitShift)
    // Naming the recipe's own kind keeps its parameters.
    #expect(try Self.hyperparameters(["--schedule", "cosine"]).schedule == .cosine(final: 0))
    #expect(try Self.hyperparameters(["--schedule", "constant"]).schedule == .constant)
  }

  @Test(
    "misused flags are one usage line: patience without a split, flags for other models, out-of-range values",
    arguments: [
      ["--model", "cnn", "--architecture", "standard", "--patience", "3"],
      ["--model", "svm", "--augment", "crop-flip"],
      ["--model", "knn", "--class-weights", "balanced"],
      ["--model", "cnn", "--validation-fraction", "1"],
      ["--model", "cnn", "--validation-fraction", "-0.1"],
      ["--model", "cnn", "--validation-fraction", "0.2", "--patience", "-1"],
      ["--model", "cnn", "--augment", "rotate"],
      ["--model", "cnn", "--schedule", "linear"],
    ])
  func misuseIsAUsageError(arguments: [String]) {
    let outcome = run(["train", "/nonexistent", "--out", "/tmp/never.glimpse"] + arguments)
    #expect(outcome.status == ExitStatus.usage)
    #expect(outcome.errors.count == 1)
  }

  @Test("train --help documents the five flags and their values")
  func helpDocumentsTheFlags() {
    let help = Glimpse.helpMessage(for: TrainCommand.self, columns: 2000)
    for text in [
      "--augment", "crop-flip", "--validation-fraction", "--patience", "--class-weights",
      "balanced", "--schedule", "constant, cosine, step",
    ] {
      #expect(help.contains(text), "\(text)")
    }
  }

  @Test("a CNN trained with a validation split reports the validation figures and the kept epoch")
  func reportNamesTheKeptEpoch() throws {
    var h = CNNClassifier.Hyperparameters.seed
    h.epochs = 3
    h.batchSize = 8
    h.validationFraction = 0.25
    h.patience = 1
    // Labels that cannot be learnt: the validation loss soon rises and early stopping ends it.
    var rng = SeededGenerator(seed: 3)
    let rows = (0..<32).map { _ in (0..<144).map { _ in rng.nextUnitDouble() } }
    let data = Dataset(
      features: Matrix(rows), labels: (0..<32).map { $0 % 2 }, classNames: ["a", "b"],
      imageShape: ImageShape(height: 12, width: 12, channels: 1),
      sources: (0..<32).map { "r\($0)" })
    var fitRng = SeededGenerator(seed: 4)
    let model = try CNNClassifier.fit(data, hyperparameters: h, using: &fitRng)
    let lines = TrainCommand.historyLines(model)
    #expect(lines.count == model.history.count + 1)
    #expect(lines.first?.contains("validation loss") == true)
    let kept = try #require(model.keptEpoch)
    let last = try #require(lines.last)
    #expect(last.contains("epoch \(kept)"))
    #expect(last.contains(model.stoppedEarly ? "early stopping" : "lowest validation loss"))
    let status = TrainCommand.describe(
      CNNClassifier.TrainingProgress(
        epoch: 2, epochs: 3, batch: 1, batches: 3, loss: 0.5, accuracy: 0.75,
        validationLoss: 0.6, validationAccuracy: 0.5, bestEpoch: 1))
    #expect(
      status.contains("batch 1/3") && status.contains("validation loss 0.6000")
        && status.contains("best: epoch 1"))
  }
}

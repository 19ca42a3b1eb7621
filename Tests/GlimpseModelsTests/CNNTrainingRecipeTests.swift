import Foundation
import GlimpseCore
import Testing

@testable import GlimpseModels

/// FNV-1a over the bit patterns of every weight and every epoch's figures: a fingerprint of a
/// trained model that changes with any bit of it.
func trainingFingerprint(_ model: CNNClassifier) -> UInt64 {
  var hash: UInt64 = 0xcbf2_9ce4_8422_2325
  func mix(_ bits: UInt64) {
    for shift in stride(from: 0, to: 64, by: 8) {
      hash = (hash ^ ((bits >> UInt64(shift)) & 0xff)) &* 0x100_0000_01b3
    }
  }
  for array in model.network.parameters {
    for value in array { mix(UInt64(value.bitPattern)) }
  }
  for record in model.history {
    mix(record.loss.bitPattern)
    mix(record.accuracy.bitPattern)
  }
  return hash
}

@Suite("CNN training recipes")
struct CNNTrainingRecipeTests {
  /// The digit recipes were trained before augmentation kinds, validation splits and class
  /// weights existed; with those off they must draw the same numbers and take the same steps.
  /// The fingerprints were computed by this test's code on the sources of commit 0f4142e (the
  /// last before them), on 2 model threads (so OpenBLAS runs at 1 thread whatever the
  /// machine's setting), with `h.maxShift`, the only augmentation there was.
  @Test(
    "same seed, same model: the digit recipes train bit for bit as before the new options",
    arguments: [
      (Architecture.seed, 0, UInt64(9_752_141_283_915_332_209)),
      (.standard, 2, 18_287_303_727_691_704_102), (.standard, 1, 9_966_206_641_808_088_354),
    ])
  func digitRecipesAreUnchanged(architecture: Architecture, maxShift: Int, expected: UInt64)
    throws
  {
    let train = Bars.dataset(count: 36, seed: 21)
    var h = Bars.recipe(architecture, epochs: 2)
    h.maxShift = maxShift
    var rng = SeededGenerator(seed: 22)
    let model = try ModelThreads.$count.withValue(2) {
      try CNNClassifier.fit(train, hyperparameters: h, using: &rng)
    }
    #expect(trainingFingerprint(model) == expected)
  }

  @Test("the digit recipes hold nothing out, weight no class, and augment as before")
  func digitRecipesKeepTheirSettings() {
    let standard = CNNClassifier.Hyperparameters()
    #expect(standard.augmentation == .shift(maxShift: 2))
    #expect(standard.maxShift == 2)
    #expect(standard.validationFraction == 0 && standard.patience == 0)
    #expect(standard.classWeighting == .none)
    let seed = CNNClassifier.Hyperparameters.seed
    #expect(seed.augmentation == .none && seed.maxShift == 0)
    #expect(seed.validationFraction == 0 && seed.classWeighting == .none)
  }

  @Test(
    "the large-image recipe: Adam 1e-3, cosine to 0, batch 32, 30 epochs, crop-flip, 15 % validation, patience 6"
  )
  func largeImageRecipe() throws {
    let h = CNNClassifier.Hyperparameters.largeImages
    #expect(h.optimizer == .adam && h.learningRate == 1e-3)
    #expect(h.schedule == .cosine(final: 0))
    #expect(h.batchSize == 32 && h.epochs == 30)
    #expect(h.augmentation == .cropFlip(paddingFraction: 0.125))
    #expect(h.validationFraction == 0.15 && h.patience == 6)
    #expect(h.classWeighting == .none)
    try h.validate()
  }

  /// Model files store the hyperparameters as JSON; those written before this change have
  /// `maxShift` and none of the new fields (this is the header of
  /// `Tests/Fuzz/Corpus/model/cnn-seed.glimpse`).
  @Test(
    "old model files' hyperparameters decode: maxShift becomes the shift, no split, no weights",
    arguments: [(0, Augmentation.none), (2, .shift(maxShift: 2))])
  func oldHyperparametersDecode(maxShift: Int, augmentation: Augmentation) throws {
    let json = """
      {"architecture":"seed","batchSize":32,"epochs":1,"initializer":"glorotUniform",\
      "learningRate":0.001,"maxShift":\(maxShift),"optimizer":{"adam":{"_0":{"beta1":0.9,\
      "beta2":0.999,"epsilon":1e-07,"epsilonPlacement":"pytorch"}}},"schedule":{"constant":{}}}
      """
    let h = try JSONDecoder().decode(CNNClassifier.Hyperparameters.self, from: Data(json.utf8))
    #expect(h.augmentation == augmentation)
    #expect(h.validationFraction == 0 && h.patience == 0 && h.classWeighting == .none)
    #expect(h.architecture == .seed && h.epochs == 1 && h.schedule == .constant)
  }

  @Test("every recipe survives an encode–decode round trip, new fields included")
  func recipesRoundTrip() throws {
    var custom = CNNClassifier.Hyperparameters.largeImages
    custom.classWeighting = .balanced
    custom.schedule = .stepDecay(epochs: 3, factor: 0.5)
    for h in [CNNClassifier.Hyperparameters(), .seed, .largeImages, custom] {
      let data = try JSONEncoder().encode(h)
      #expect(try JSONDecoder().decode(CNNClassifier.Hyperparameters.self, from: data) == h)
    }
  }

  @Test("a model trained with the new options saves and loads with them")
  func archiveKeepsTheNewOptions() throws {
    let train = Bars.dataset(count: 24, seed: 23)
    var h = Bars.recipe(.seed, epochs: 2)
    h.augmentation = .cropFlip(paddingFraction: 0.25)
    h.validationFraction = 0.25
    h.patience = 1
    h.classWeighting = .balanced
    var rng = SeededGenerator(seed: 24)
    let model = try CNNClassifier.fit(train, hyperparameters: h, using: &rng)
    let loaded = try CNNClassifier(archive: ModelArchive(decoding: model.archive().encoded()))
    #expect(loaded.hyperparameters == h)
    #expect(loaded.network == model.network)
  }

  @Test("the command line's schedule and augmentation names map to the library's parameters")
  func namedSettings() {
    #expect(LearningRateSchedule(.constant, epochs: 30) == .constant)
    #expect(LearningRateSchedule(.cosine, epochs: 30) == .cosine(final: 0))
    #expect(LearningRateSchedule(.step, epochs: 30) == .stepDecay(epochs: 10, factor: 0.1))
    #expect(LearningRateSchedule(.step, epochs: 2) == .stepDecay(epochs: 1, factor: 0.1))
    for kind in LearningRateSchedule.Kind.allCases {
      #expect(LearningRateSchedule(kind, epochs: 9).kind == kind)
    }
    for kind in Augmentation.Kind.allCases { #expect(Augmentation(kind).kind == kind) }
    #expect(Augmentation(.shift) == CNNClassifier.Hyperparameters().augmentation)
    #expect(Augmentation(.cropFlip) == CNNClassifier.Hyperparameters.largeImages.augmentation)
  }
}

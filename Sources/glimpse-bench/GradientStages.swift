import GlimpseCore
import GlimpseExplain
import GlimpseModels

// Issue #19's gradient maps: Grad-CAM, saliency and Integrated Gradients (50 Gauss–Legendre
// steps, one batched pass) on digits with the `.standard` network trained for one epoch on the
// anchor's 1000 training digits, and on a 224×224 grey image with an untrained `.resnet` (the
// cost does not depend on the weights). Each returns seconds per image, one class explained.

/// Bench stages for the gradient explainers.
enum GradientStages {
  /// Digits per timing.
  static let digits = 10

  /// Every stage by name; each returns seconds per image.
  static var all: [String: (BenchContext) throws -> Double] {
    [
      "gradcam-digit": {
        try digitStage($0) { try GradCAMExplainer().explain($0, labels: [$1], model: $2) }
      },
      "saliency-digit": {
        try digitStage($0) { try SaliencyExplainer().explain($0, labels: [$1], model: $2) }
      },
      "ig-digit-50steps": {
        try digitStage($0) {
          try IntegratedGradientsExplainer().explain($0, labels: [$1], model: $2)
        }
      },
      "gradcam-resnet224": {
        try photoStage($0) { try GradCAMExplainer().explain($0, labels: [0], model: $1) }
      },
      "ig-resnet224-50steps": {
        try photoStage($0) {
          try IntegratedGradientsExplainer().explain($0, labels: [0], model: $1)
        }
      },
    ]
  }

  /// The median time per digit of `explain` on the first test digits, for their true class.
  private static func digitStage(
    _ context: BenchContext, _ explain: (Image, Int, CNNClassifier) throws -> [WeightMap]
  ) throws -> Double {
    let (data, split) = try context.digitsAndSplit()
    var h = CNNClassifier.Hyperparameters()
    h.epochs = 1
    h.augmentation = .none
    var rng = SeededGenerator(seed: 0)
    let model = try CNNClassifier.fit(data.subset(split.train), hyperparameters: h, using: &rng)
    let shape = model.imageShape
    let rows = Array(split.test.prefix(digits))
    let images = rows.map { Image(shape: shape, pixels: data.values(ofRow: $0)) }
    let perPass = try context.median {
      for (image, row) in zip(images, rows) {
        let maps = try explain(image, data.labels[row], model)
        precondition(maps.count == 1)
      }
    }
    return perPass / Double(images.count)
  }

  /// The median time of `explain` on one 224×224 grey image with an untrained resnet.
  private static func photoStage(
    _ context: BenchContext, _ explain: (Image, CNNClassifier) throws -> [WeightMap]
  ) throws -> Double {
    let shape = ImageShape(height: 224, width: 224, channels: 1)
    var rng = SeededGenerator(seed: 0)
    guard
      let network: Network<Float> = Architecture.resnet.makeNetwork(
        input: shape, classes: 3, initializer: .heUniform, using: &rng)
    else { throw BenchFailure("no resnet for \(shape)") }
    let model = CNNClassifier(
      hyperparameters: .largeImages, classNames: ["a", "b", "c"], network: network, history: [])
    let image = Image(
      shape: shape, pixels: (0..<shape.valueCount).map { _ in rng.nextUnitDouble() })
    return try context.median { _ = try explain(image, model) }
  }
}

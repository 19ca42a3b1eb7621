import GlimpseCore
import GlimpseData
import GlimpseExplain
import GlimpseModels
import GlimpseSegmentation

// The digits pipeline, as `.ci/bench_reference.py` times it in Python: read the anchors' tables,
// fit and apply the SVM, explain one ambiguous digit, segment a photo; and the whole process of
// `lime_anchor.py --one`.

/// The pipeline stages of `make bench`'s first table.
enum PipelineStages {
  /// Every pipeline stage by name.
  static var all: [String: (BenchContext) throws -> Double] {
    [
      "read-csv": { context in
        try context.median {
          _ = try TableDatasetReader.read(context.imagesPath, options: context.readOptions)
        }
      },
      "decompress-bz2": { context in
        try context.median { _ = try FileBytes.read(context.imagesPath) }
      },
      "parse-csv": { context in
        let bytes = try FileBytes.read(context.imagesPath)
        return try context.median { _ = try CSVReader.parse(bytes, path: "mnist-imgs-mini.csv") }
      },
      "svm-fit": { context in
        let (train, _) = try anchorSplit(context)
        // One fit first, untimed, as the reference's warm-up.
        var rng = SeededGenerator(seed: 0)
        _ = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
        return try context.median {
          var rng = SeededGenerator(seed: 0)
          _ = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
        }
      },
      "svm-predict-proba": { context in
        let (train, test) = try anchorSplit(context)
        var rng = SeededGenerator(seed: 0)
        let model = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
        return try context.median { _ = model.predictProbabilities(test.features) }
      },
      "lime-digit": { context in
        let explainOneDigit = try limeSetup(context)
        return try context.median { explainOneDigit() }
      },
      "whole-process": { context in
        // As `lime_anchor.py --one`: load the table, fit the SVM, scan the 1000 test digits,
        // explain the first ambiguous one with the six segmenters, exit.
        let started = monotonicSeconds()
        try limeSetup(context, phases: PhaseClock(started: started))()
        return monotonicSeconds() - started
      },
      "slic-512": { context in
        let photo = try ImageFileFormat.decode(
          FileBytes.readRaw("\(context.samples)/photos/astronaut.png"))
        let segmenter = try SegmenterSpec(kind: .slic, parameters: [250, 10, 0, 10, 1])
          .makeSegmenter()
        return try context.median { _ = segmenter.segment(photo) }
      },
    ]
  }

  /// Reads the anchor split, fits the SVM, picks the first ambiguous test digit, and returns
  /// the timed work: its explanation with the six seed segmenters, 500 samples each.
  private static func limeSetup(_ context: BenchContext, phases: PhaseClock? = nil) throws -> () ->
    Void
  {
    let (train, test) = try anchorSplit(context, phases: phases)
    var rng = SeededGenerator(seed: 0)
    let model = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
    phases?.mark("fit")
    let (image, labels) = firstAmbiguous(model, test)
    phases?.mark("scan")
    let segmenters = try SegmenterSpec.seedDefaults.map { spec throws(SegmenterSpecError) in
      try spec.makeSegmenter()
    }
    var explainer = LimeImageExplainer()
    explainer.sampleCount = 500
    return {
      _ = CombinedExplanation.explain(
        image, segmenters: segmenters, labels: labels, explainer: explainer, seed: 0,
        classifier: model)
      phases?.mark("explain")
    }
  }

  /// The first test digit the seed rule finds ambiguous (or the closest call), and its top two.
  private static func firstAmbiguous(_ model: SVMClassifier, _ test: Dataset) -> (Image, [Int]) {
    let (probabilities, votes) = model.predictProbabilitiesAndVotes(test.features)
    let ranked = AmbiguityFinder.rank(probabilities, truth: test.labels, votes: votes)
    let pick =
      AmbiguityFinder.find(ranked, matching: .seedRule).first
      ?? AmbiguityFinder.find(ranked, matching: AmbiguityQuery())[0]
    let shape = test.imageShape ?? ImageShape(height: 28, width: 28)
    return (Image(shape: shape, pixels: test.values(ofRow: pick.row)), [pick.first, pick.second])
  }

  /// The anchors' split: 1000 training and 1000 test digits, pixels / 255, read in steps so
  /// that the whole-process stage can time each.
  private static func anchorSplit(
    _ context: BenchContext, phases: PhaseClock? = nil
  ) throws -> (Dataset, Dataset) {
    // The same work as `TableDatasetReader.read(images, options:)`, in two steps to time them.
    let bytes = try FileBytes.read(context.imagesPath)
    phases?.mark("decompress")
    let data = try TableDatasetReader.read(
      context.imagesPath, bytes: bytes, options: context.readOptions)
    phases?.mark("parse")
    let split = try context.split()
    phases?.mark("split-json")
    defer { phases?.mark("subset") }
    return (data.subset(split.train), data.subset(split.test))
  }
}

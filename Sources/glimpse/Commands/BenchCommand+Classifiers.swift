import GlimpseCore
import GlimpseModels

// The classifier stages time what `.ci/bench_reference_classifiers.py` times with scikit-learn,
// on the anchor split (1000 training, 1000 test digits, pixels / 255), at the OpenBLAS thread
// count `glimpse bench --threads` sets (1 in `make bench`, as the reference's).

extension BenchCommand {
  /// Bench stages for logistic regression and k-NN fit/predict; each returns seconds (a median over `context.repeats`).
  static var classifierStages: [String: (BenchContext) throws -> Double] {
    [
      "logistic-fit": { context in
        let (train, _) = try ClassifierBench.anchorSplit(context)
        return try context.median {
          _ = try LogisticRegression.fit(train, hyperparameters: .init(), warmStart: nil)
        }
      },
      "logistic-predict-proba": { context in
        let (train, test) = try ClassifierBench.anchorSplit(context)
        let model = try LogisticRegression.fit(train, hyperparameters: .init(), warmStart: nil)
        return try context.median { _ = model.predictProbabilities(test.features) }
      },
      "knn-predict-proba": { context in
        let (train, test) = try ClassifierBench.anchorSplit(context)
        var rng = SeededGenerator(seed: 0)
        let model = try KNearestNeighbors.fit(train, hyperparameters: .init(k: 5), using: &rng)
        return try context.median { _ = model.predictProbabilities(test.features) }
      },
    ]
  }
}

/// Data for the classifier bench stages.
enum ClassifierBench {
  /// The anchors' split: 1000 training and 1000 test digits, pixels / 255.
  static func anchorSplit(_ context: BenchContext) throws -> (train: Dataset, test: Dataset) {
    let (data, split) = try context.digitsAndSplit()
    return (data.subset(split.train), data.subset(split.test))
  }
}

import GlimpseCore
import GlimpseModels

// The classifier stages time what `.ci/bench_reference_classifiers.py` times with scikit-learn,
// on the anchor split (1000 training, 1000 test digits, pixels / 255), at the OpenBLAS thread
// count `glimpse-bench --threads` sets (1 in `make bench`, as the reference's).

/// Bench stages for logistic regression and k-NN fit/predict.
enum ClassifierStages {
  /// Every classifier stage by name; each returns seconds (a median over `context.repeats`).
  static var all: [String: (BenchContext) throws -> Double] {
    [
      "logistic-fit": { context in
        let (train, _) = try context.anchorSplit()
        return try context.median {
          _ = try LogisticRegression.fit(train, hyperparameters: .init(), warmStart: nil)
        }
      },
      "logistic-predict-proba": { context in
        let (train, test) = try context.anchorSplit()
        let model = try LogisticRegression.fit(train, hyperparameters: .init(), warmStart: nil)
        return try context.median { _ = model.predictProbabilities(test.features) }
      },
      "knn-predict-proba": { context in
        let (train, test) = try context.anchorSplit()
        var rng = SeededGenerator(seed: 0)
        let model = try KNearestNeighbors.fit(train, hyperparameters: .init(k: 5), using: &rng)
        return try context.median { _ = model.predictProbabilities(test.features) }
      },
    ]
  }
}

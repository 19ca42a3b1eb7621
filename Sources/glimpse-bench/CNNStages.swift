import GlimpseCore
import GlimpseExplain
import GlimpseModels
import GlimpseSegmentation

// The CNN stages time what `cnn_anchor.py` times, the same way (`.ci/bench_reference_cnn.py` is
// the PyTorch side):
// - `cnn-epoch-tN`: the seed recipe on the 4000 digits outside the anchor test split, batch 32;
//   the median wall time of the epochs of one training run (1 + repeats epochs, the first left
//   out as a warm-up), as the anchor's "epoch (median of 10)".
// - `cnn-predict-1000-tN`: probabilities of the 1000 test digits in one call.
// - `cnn-whole-process`: `cnn_anchor.py --one` (load, train 10 epochs, scan, explain one digit
//   with the six segmenters), for `/usr/bin/time`; `GLIMPSE_BENCH_PHASES=1` prints the phases.
//   `make bench` runs it with Glimpse's loops on 2 threads and OpenBLAS on 1 (`--threads 1`),
//   as the CLI runs these phases: the training shards and LIME's fits call BLAS from threads
//   of their own, one call per core.
// N is the thread count of both OpenBLAS and Glimpse's own loops. The latter is fixed when the
// process starts (`GLIMPSE_THREADS`), so a stage refuses to run at another count rather than
// report a figure for the wrong setting.

/// Bench stages for the CNN's epochs, predictions and whole process.
enum CNNStages {
  /// Every CNN stage by name; each returns seconds (a median over `context.repeats`, or the
  /// whole process's).
  static var all: [String: (BenchContext) throws -> Double] {
    var stages: [String: (BenchContext) throws -> Double] = [:]
    for threads in 1...2 {
      stages["cnn-epoch-t\(threads)"] = { context in
        try CNNBench.useThreads(threads)
        return try CNNBench.epochSeconds(context)
      }
      stages["cnn-predict-1000-t\(threads)"] = { context in
        try CNNBench.useThreads(threads)
        return try CNNBench.predictSeconds(context)
      }
    }
    stages["cnn-whole-process"] = { context in try CNNBench.wholeProcess(context) }
    return stages
  }
}

/// The work behind the CNN bench stages.
enum CNNBench {
  /// Sets OpenBLAS to `threads` and checks that Glimpse's loops run on as many.
  static func useThreads(_ threads: Int) throws {
    guard Parallelism.threadCount == threads else {
      throw BenchFailure(
        "this stage runs on \(threads) thread(s); Glimpse's loops use \(Parallelism.threadCount): set GLIMPSE_THREADS=\(threads)"
      )
    }
    BLAS.setThreadCount(threads)
  }

  /// The anchor's 4000 training digits (the split's 1000 training rows, then the rows in
  /// neither part, in file order; the anchor takes the latter in its permutation's order, which
  /// changes which digits share a batch but not the work) and the 1000 test digits.
  static func anchorData(_ context: BenchContext) throws -> (train: Dataset, test: Dataset) {
    let (data, split) = try context.digitsAndSplit()
    let taken = Set(split.train).union(split.test)
    let rest = (0..<data.count).filter { !taken.contains($0) }
    return (data.subset(split.train + rest), data.subset(split.test))
  }

  /// The median epoch time of one seed-recipe run of 1 + `repeats` epochs (the first, which
  /// also touches every page for the first time, is left out).
  static func epochSeconds(_ context: BenchContext) throws -> Double {
    let (train, _) = try anchorData(context)
    var h = CNNClassifier.Hyperparameters.seed
    h.epochs = 1 + max(context.repeats, 1)
    var ends: [Double] = []
    var rng = SeededGenerator(seed: 0)
    _ = try CNNClassifier.fit(train, hyperparameters: h, using: &rng) { progress in
      if progress.batch == progress.batches { ends.append(monotonicSeconds()) }
    }
    let epochs = zip(ends.dropFirst(), ends).map { $0 - $1 }.sorted()
    guard !epochs.isEmpty else { throw BenchFailure("no epoch was timed") }
    return epochs[epochs.count / 2]
  }

  /// The median time of `predictProbabilities` on the 1000 test digits (one call), with a seed
  /// network trained for one epoch on the 1000 training digits.
  static func predictSeconds(_ context: BenchContext) throws -> Double {
    let (data, split) = try context.digitsAndSplit()
    var h = CNNClassifier.Hyperparameters.seed
    h.epochs = 1
    var rng = SeededGenerator(seed: 0)
    let model = try CNNClassifier.fit(data.subset(split.train), hyperparameters: h, using: &rng)
    let test = data.subset(split.test).features
    _ = model.predictProbabilities(test)
    return try context.median { _ = model.predictProbabilities(test) }
  }

  /// As `cnn_anchor.py --one`: read the table, train the seed recipe on the 4000 digits (10
  /// epochs), scan the 1000 test digits with the seed rule, explain the first ambiguous digit
  /// (or the closest call) with the six seed segmenters, 500 samples each. Returns its seconds.
  static func wholeProcess(_ context: BenchContext) throws -> Double {
    let started = monotonicSeconds()
    let phases = PhaseClock(started: started)
    let (train, test) = try anchorData(context)
    phases.mark("read")
    var rng = SeededGenerator(seed: 0)
    let model = try CNNClassifier.fit(train, hyperparameters: .seed, using: &rng)
    phases.mark("train")
    // A CNN decides by the argmax of its probabilities, so it has no separate votes (as in
    // `glimpse ambiguous`): one forward pass over the test digits, as the anchor makes.
    let ranked = AmbiguityFinder.rank(model.predictProbabilities(test.features), truth: test.labels)
    phases.mark("scan")
    let pick =
      AmbiguityFinder.find(ranked, matching: .seedRule).first
      ?? AmbiguityFinder.find(ranked, matching: AmbiguityQuery())[0]
    let shape = test.imageShape ?? ImageShape(height: 28, width: 28)
    let image = Image(shape: shape, pixels: test.values(ofRow: pick.row))
    let segmenters = try SegmenterSpec.seedDefaults.map {
      spec throws(SegmenterSpecError) in try spec.makeSegmenter()
    }
    var explainer = LimeImageExplainer()
    explainer.sampleCount = 500
    _ = CombinedExplanation.explain(
      image, segmenters: segmenters, labels: [pick.first, pick.second], explainer: explainer,
      seed: 0, classifier: model)
    phases.mark("explain")
    return monotonicSeconds() - started
  }
}

import FoundationEssentials
import Glibc
import GlimpseCore
import GlimpseData
import GlimpseModels

// The explain stage times, per digit, what `glimpse explain-batch` does for every item (LIME
// with the seed's six segmenters, 500 samples, the figure as PNG bytes, the JSON sidecar), on
// the first test digits of the anchor split, as `.ci/bench_reference_explain.py` times the
// Python loop (lime_image, the anchor's matplotlib figure saved as PNG). The whole batch of
// 1000 digits is timed from the shell (`.ci/bench-explain.sh`), by the real command.

extension BenchCommand {
  /// Digits per timing of `explain-digit-png` (the reference loop takes the same ones).
  static let explainBenchDigits = 10

  /// Bench stages for explain-batch's per-item work; each returns seconds per digit (the median
  /// over `context.repeats` passes over `explainBenchDigits` digits).
  static var explainStages: [String: (BenchContext) throws -> Double] {
    [
      "explain-digit-png": { context in
        let (data, split) = try context.digitsAndSplit()
        let train = data.subset(split.train)
        var rng = SeededGenerator(seed: 0)
        let model = try SVMClassifier.fit(train, hyperparameters: .init(), using: &rng)
        // ExplanationJob reads a model file (it hashes it into every sidecar), as the command does.
        var template = Array("/tmp/glimpse-bench-explain-XXXXXX".utf8CString)
        guard let folder = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) })
        else {
          throw CommandFailure(
            message: "cannot create a temporary folder", status: ExitStatus.badInput)
        }
        let root = String(cString: folder)
        let modelPath = root + "/svm.glimpse"
        defer {
          unlink(modelPath)
          rmdir(root)
        }
        var archive = model.archive()
        archive.imageShape = data.imageShape
        try AtomicFile.write(archive.encoded(), to: modelPath)
        let job = try ExplanationJob(
          modelPath: modelPath, options: ExplanationOptions.parse(["--samples", "500"]))
        let shape = data.imageShape ?? ImageShape(height: 28, width: 28)
        let rows = Array(split.test.prefix(explainBenchDigits))
        let images = rows.map { Image(shape: shape, pixels: data.values(ofRow: $0)) }
        let perPass = try context.median {
          for (row, image) in zip(rows, images) {
            let output = try job.explain(
              image, source: "row-\(row)", truth: data.classNames[data.labels[row]])
            _ = try output.sidecar.encoded()
          }
        }
        return perPass / Double(rows.count)
      }
    ]
  }
}

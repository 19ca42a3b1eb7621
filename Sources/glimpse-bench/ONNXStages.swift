import Glibc
import GlimpseCore
import GlimpseData
import GlimpseModels

// The ONNX stage times what `.ci/bench_onnx.py forward` times with onnxruntime:
// - `onnx-forward-tN`: class probabilities of a seeded random batch of 32 224×224 RGB images
//   through the ONNX file named by `GLIMPSE_BENCH_ONNX` (the ResNet-18 that
//   `.ci/bench_onnx.py models` writes), imported with the defaults; one warm-up call, then the
//   median of the repeats. N is Glimpse's thread count (`GLIMPSE_THREADS`, fixed when the
//   process starts: the stage refuses another), OpenBLAS at one thread (each batch of the
//   classifier runs on one thread).
// - `onnx-masked-t1` and `onnx-materialised-t1`: LIME's scoring alone, one thread. 96 perturbed
//   images of one seeded 224×224 RGB image over a 7×7 grid of segments, each segment on with
//   probability 1/2, hidden segments grey: scored as a `MaskedBatch` (the stem sum, when the
//   model's first Conv reads the image alone) and, for comparison, as the same 96 rows written
//   out (the whole graph). Seconds per call; divide by 96 for one image.

/// Bench stages for imported ONNX models.
enum ONNXStages {
  /// Every ONNX stage by name.
  static var all: [String: (BenchContext) throws -> Double] {
    var stages: [String: (BenchContext) throws -> Double] = [:]
    for threads in 1...2 {
      stages["onnx-forward-t\(threads)"] = { context in
        guard Parallelism.threadCount == threads else {
          throw BenchFailure(
            "this stage runs on \(threads) thread(s); Glimpse's loops use \(Parallelism.threadCount): set GLIMPSE_THREADS=\(threads)"
          )
        }
        BLAS.setThreadCount(1)
        return try ONNXStages.forwardSeconds(context)
      }
    }
    for materialised in [false, true] {
      stages[materialised ? "onnx-materialised-t1" : "onnx-masked-t1"] = { context in
        guard Parallelism.threadCount == 1 else {
          throw BenchFailure("this stage runs on 1 thread: set GLIMPSE_THREADS=1")
        }
        BLAS.setThreadCount(1)
        return try ONNXStages.maskedSeconds(context, materialised: materialised)
      }
    }
    // The per-layer 3×3 convolution comparisons (`ConvolutionStages`).
    stages.merge(ConvolutionStages.all) { first, _ in first }
    return stages
  }

  /// The model named by `GLIMPSE_BENCH_ONNX`, imported with the defaults.
  static func benchModel() throws -> ONNXClassifier {
    guard let path = getenv("GLIMPSE_BENCH_ONNX").map({ String(cString: $0) }) else {
      throw BenchFailure(
        "set GLIMPSE_BENCH_ONNX to an .onnx file (.ci/bench_onnx.py models DIR writes one)")
    }
    return try ONNXClassifier(onnx: try FileBytes.readRaw(path))
  }

  /// The median seconds of scoring 96 masked images, as a `MaskedBatch` or written out.
  static func maskedSeconds(_ context: BenchContext, materialised: Bool) throws -> Double {
    let model = try benchModel()
    let shape = model.imageShape
    var rng = SeededGenerator(seed: 1)
    let image = (0..<model.featureCount).map { _ in rng.nextUnitDouble() }
    let base = [Double](repeating: 0.5, count: model.featureCount)
    let groups = (0..<model.featureCount).map { p -> Int32 in
      let pixel = p / shape.channels
      let (y, x) = (pixel / shape.width, pixel % shape.width)
      return Int32((y * 7 / shape.height) * 7 + x * 7 / shape.width)
    }
    let coefficients = Matrix(rows: 96, columns: 49) { _, _ in
      rng.nextUnitDouble() < 0.5 ? 0 : 1
    }
    let batch = MaskedBatch(
      base: base, delta: zip(image, base).map { $0 - $1 }, groups: groups, groupCount: 49,
      coefficients: coefficients)
    let rows = batch.materialized()
    func score() -> Matrix {
      materialised ? model.predictProbabilities(rows) : model.predictProbabilities(batch)
    }
    var sink = score()
    let seconds = try context.median { sink = score() }
    guard sink.storage.allSatisfy(\.isFinite) else {
      throw BenchFailure("non-finite probabilities")
    }
    return seconds
  }

  /// The median seconds of one batch of 32 images.
  static func forwardSeconds(_ context: BenchContext) throws -> Double {
    let model = try benchModel()
    var rng = SeededGenerator(seed: 0)
    let images = Matrix(
      rows: 32, columns: model.featureCount,
      storage: (0..<(32 * model.featureCount)).map { _ in rng.nextUnitDouble() })
    var sink = model.predictProbabilities(images)
    let seconds = try context.median { sink = model.predictProbabilities(images) }
    guard sink.storage.allSatisfy(\.isFinite) else {
      throw BenchFailure("non-finite probabilities")
    }
    return seconds
  }
}

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
    return stages
  }

  /// The median seconds of one batch of 32 images.
  static func forwardSeconds(_ context: BenchContext) throws -> Double {
    guard let path = getenv("GLIMPSE_BENCH_ONNX").map({ String(cString: $0) }) else {
      throw BenchFailure(
        "set GLIMPSE_BENCH_ONNX to an .onnx file (.ci/bench_onnx.py models DIR writes one)")
    }
    let bytes = try FileBytes.readRaw(path)
    let model = try ONNXClassifier(onnx: bytes)
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

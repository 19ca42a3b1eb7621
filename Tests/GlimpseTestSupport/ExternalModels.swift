import Foundation
import GlimpseCore
import GlimpseModels

/// A model served by `samples/models/serve_logistic_json.py` (Python's standard library only)
/// and the same model in-process, for the model-command tests.
public enum ExternalModelFixture {
  /// Whether `python3` is on the PATH (the model-command tests need it).
  public static let hasPython: Bool = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains {
      FileManager.default.isExecutableFile(atPath: "\($0)/python3")
    }
  }()

  /// The standard-library server.
  public static var server: String { TestPaths.samples + "/models/serve_logistic_json.py" }

  /// A 3-class logistic regression on `shape` images with seeded random weights, and the JSON
  /// file the server reads (written in `directory`).
  public static func logistic(
    shape: ImageShape = ImageShape(height: 8, width: 8, channels: 3), in directory: String,
    seed: UInt64 = 7, classNames: [String] = ["cat", "dog", "fox"]
  ) throws -> (model: LogisticRegression, json: String) {
    let d = shape.valueCount
    let k = classNames.count
    let weights = randomValues(k * d, seed: seed).map { ($0 - 0.5) * 0.8 }
    let intercepts = randomValues(k, seed: seed + 1).map { $0 - 0.5 }
    var archive = ModelArchive(
      kind: LogisticRegression.kind, classNames: classNames, featureCount: d,
      hyperparameters: LogisticRegression.Hyperparameters(),
      scalars: ["iterations": 0, "converged": 1],
      doubles: ["weights": weights, "intercepts": intercepts], integers: ["classes": Array(0..<k)])
    archive.imageShape = shape
    let model = try LogisticRegression(archive: archive)
    let rows = (0..<k).map { Array(weights[($0 * d)..<(($0 + 1) * d)]) }
    let object: [String: Any] = [
      "height": shape.height, "width": shape.width, "channels": shape.channels,
      "classes": classNames, "weights": rows, "intercepts": intercepts,
    ]
    let path = directory + "/model.json"
    try writeFile(Array(try JSONSerialization.data(withJSONObject: object)), to: path)
    return (model, path)
  }

  /// The command line that serves `json` (with `--fault FAULT` when given).
  public static func command(_ json: String, fault: String? = nil) -> String {
    "python3 \(server) \(json)" + (fault.map { " --fault \($0)" } ?? "")
  }
}

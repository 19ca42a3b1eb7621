import Foundation
import GlimpseTestSupport
import Testing

@testable import glimpse

@Suite("Command line: value's exact games, Beta Shapley and Data-OOB on a tiny table")
struct ValueMethodsCommandTests {
  /// 8 training points (a table of plain 2-D points, two classes) and 6 validation points.
  static let training: [(Double, Double, Int)] = [
    (0.11, 0.23, 0), (0.93, 0.87, 1), (0.32, 0.71, 0), (0.78, 0.19, 1), (0.47, 0.52, 1),
    (0.05, 0.64, 0), (0.66, 0.91, 0), (0.24, 0.09, 1),
  ]
  static let validation: [(Double, Double, Int)] = [
    (0.15, 0.31, 0), (0.88, 0.79, 1), (0.41, 0.66, 0), (0.71, 0.28, 1), (0.52, 0.44, 1),
    (0.09, 0.51, 0),
  ]

  static func write(_ directory: String) throws {
    func table(_ rows: [(Double, Double, Int)]) -> String {
      "x,y,label\n" + rows.map { "\($0.0),\($0.1),\($0.2)\n" }.joined()
    }
    try writeFile(table(training), to: directory + "/train.csv")
    try writeFile(table(validation), to: directory + "/valid.csv")
  }

  /// U(mask): validation accuracy of 1-NN on the training points in `mask`, by brute force; 0
  /// for the empty set. A single-class subset predicts its class.
  static func utility(_ mask: Int) -> Double {
    let members = training.indices.filter { mask & (1 << $0) != 0 }
    guard !members.isEmpty else { return 0 }
    let hits = validation.filter { v in
      let nearest = members.min { a, b in
        let da = pow(training[a].0 - v.0, 2) + pow(training[a].1 - v.1, 2)
        let db = pow(training[b].0 - v.0, 2) + pow(training[b].1 - v.1, 2)
        return da < db
      }
      return training[nearest ?? 0].2 == v.2
    }
    return Double(hits.count) / Double(validation.count)
  }

  /// Σ_{S ∌ i} weight(|S|) (U(S ∪ {i}) − U(S)).
  static func semivalues(_ weight: (Int) -> Double) -> [Double] {
    let n = Self.training.count
    return (0..<n).map { i in
      (0..<(1 << n)).filter { $0 & (1 << i) == 0 }.reduce(0.0) {
        $0 + weight($1.nonzeroBitCount) * (utility($1 | (1 << i)) - utility($1))
      }
    }
  }

  static func values(_ d: String, _ flags: [String]) throws -> [Double] {
    let result = run(
      ["value", d + "/train.csv", "--valid", d + "/valid.csv", "--out", d + "/v.csv"] + flags)
    #expect(result.status == 0, "\(result.errors)")
    return try ValueCommandTests.values(d + "/v.csv")
  }

  @Test(
    "--method exact --model knn --k 1 (Shapley, --semivalue banzhaf) and loo equal 1-NN enumeration to 1e-9"
  )
  func exactGamesOfOneNearestNeighbor() throws {
    let d = makeTemporaryDirectory()
    try Self.write(d)
    let n = Self.training.count
    func factorial(_ k: Int) -> Double { k < 2 ? 1 : (2...k).reduce(1.0) { $0 * Double($1) } }
    let shapley = Self.semivalues { factorial($0) * factorial(n - $0 - 1) / factorial(n) }
    let banzhaf = Self.semivalues { _ in 1 / Double(1 << (n - 1)) }
    let all = (1 << n) - 1
    let loo = (0..<n).map { Self.utility(all) - Self.utility(all & ~(1 << $0)) }
    let knn = ["--model", "knn", "--k", "1"]
    for (flags, expected) in [
      (["--method", "exact"] + knn, shapley),
      (["--method", "exact", "--semivalue", "banzhaf"] + knn, banzhaf),
      (["--method", "loo"] + knn, loo),
    ] {
      let got = try Self.values(d, flags)
      #expect(got.count == n)
      let difference = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
      #expect(difference < 1e-9, "\(flags): \(got) vs \(expected)")
    }
  }

  @Test(
    "beta (Beta(1, 1)) equals tmc on the same permutations; data-oob takes --bags; flags apply to their methods only"
  )
  func betaAndDataOOB() throws {
    let d = makeTemporaryDirectory()
    try Self.write(d)
    let tmc = try Self.values(d, ["--method", "tmc", "--truncation", "0", "--samples", "30"])
    let beta = try Self.values(
      d,
      ["--method", "beta", "--alpha", "1", "--beta", "1", "--truncation", "0", "--samples", "30"])
    #expect(zip(tmc, beta).allSatisfy { abs($0 - $1) < 1e-12 })
    let oob = try Self.values(
      d, ["--method", "data-oob", "--model", "knn", "--k", "1", "--bags", "40"])
    #expect(oob.allSatisfy { (0...1).contains($0) })
    // Data-OOB needs no validation set: the same values without --valid; a removal curve,
    // which does, is refused in one line.
    let alone = run([
      "value", d + "/train.csv", "--method", "data-oob", "--model", "knn", "--k", "1", "--bags",
      "40", "--out", d + "/alone.csv",
    ])
    #expect(alone.status == 0, "\(alone.errors)")
    #expect(try ValueCommandTests.values(d + "/alone.csv") == oob)
    let curve = run([
      "value", d + "/train.csv", "--method", "data-oob", "--bags", "5", "--removal-curve",
      d + "/curve.png", "--out", d + "/c.csv",
    ])
    #expect(curve.status == 64 && curve.errors.count == 1)
    #expect(!FileManager.default.fileExists(atPath: d + "/c.csv"))
    let base = ["value", d + "/train.csv", "--valid", d + "/valid.csv", "--out", d + "/x.csv"]
    for flags in [
      ["--method", "tmc", "--bags", "5"],
      ["--method", "tmc", "--semivalue", "banzhaf"],
      ["--method", "tmc", "--exhaustive"],
      ["--method", "data-oob", "--bags", "5", "--samples", "5"],
      ["--method", "classwise", "--exhaustive", "--shard", "0/2"],
      ["--method", "beta", "--alpha", "0"],
    ] {
      let result = run(base + flags)
      #expect(result.status == 64, "\(flags)")
      #expect(result.errors.count == 1, "\(flags): \(result.errors)")
    }
  }
}

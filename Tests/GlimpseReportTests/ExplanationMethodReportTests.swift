import GlimpseCore
import GlimpseExplain
import GlimpseModels
import GlimpseReport
import GlimpseSegmentation
import Testing

@Suite("Explanation reports: KernelSHAP, feature selection and faithfulness in the sidecar")
struct ExplanationMethodReportTests {
  @Test(
    "a KernelSHAP report's Shapley values sum to f(image) − f(all hidden) per segmenter, and its curves run from one to the other"
  )
  func kernelSHAPReport() throws {
    var reporter = try ExplanationReporterTests.reporter(seed: 1)
    let image = ExplanationReporterTests.image(brightLeft: true, level: 0.8)
    // A grid cell of one grey level is its own mean fill: by default it is a dummy player
    // (value 0) and the others play alone, every coalition of them scored (2^players images;
    // just the full and the empty one when none is left).
    reporter.kernelSHAP = KernelSHAPExplainer()
    let dummies = try reporter.report(image, source: "tiny.png", shortName: "tiny", truth: nil)
    for s in dummies.sidecar.segmenters {
      let segments = try SegmenterSpec(parsing: s.spec).makeSegmenter().segment(image)
      var levels = [Set<Double>](repeating: [], count: segments.count)
      for (p, label) in segments.labels.enumerated() { levels[Int(label)].insert(image.pixels[p]) }
      let flat = levels.indices.filter { levels[$0].count == 1 }
      let players = segments.count - flat.count
      #expect(s.scoredImages == (players == 0 ? 2 : 1 << players), "\(s.spec)")
      #expect(flat.allSatisfy { s.weights[0][$0] == 0 })
    }
    #expect(dummies.sidecar.segmenters.contains { $0.scoredImages == 2 })
    // Played as shap plays them, every cell takes part.
    var everySegment = KernelSHAPExplainer()
    everySegment.skipsUnchangedSegments = false
    reporter.kernelSHAP = everySegment
    let report = try reporter.report(image, source: "tiny.png", shortName: "tiny", truth: nil)
    #expect(report.sidecar.explainer == "kernelshap")
    for s in report.sidecar.segmenters {
      // grid:2: 4 segments, every coalition enumerated (with the full and the empty one);
      // grid:4: 16 segments, above the limit of 14, 1000 sampled.
      #expect(s.scoredImages == (s.segmentCount <= 14 ? 1 << s.segmentCount : 1002))
      let curves = try #require(s.faithfulness)
      #expect(curves.deletion.count == min(s.segmentCount, 32) + 1)
      let full = curves.deletion[0]
      let hidden = curves.insertion[0]
      #expect(abs(s.weights[0].reduce(0, +) - (full - hidden)) < 1e-9)
      #expect(s.intercepts[0] == hidden && s.localPredictions[0] == full)
      #expect(curves.deletion.last == hidden && curves.insertion.last == full)
      #expect((0...1).contains(curves.deletionAUC) && (0...1).contains(curves.insertionAUC))
    }
  }

  @Test(
    "LIME with num_features 1 gives each class at most one nonzero weight per segmenter, recorded in the sidecar"
  )
  func featureSelectionReport() throws {
    var reporter = try ExplanationReporterTests.reporter(seed: 1)
    reporter.explainer.featureCount = 1
    reporter.explainer.featureSelection = .highestWeights
    let report = try reporter.report(
      ExplanationReporterTests.image(brightLeft: false, level: 0.9), source: "t.png",
      shortName: "t", truth: nil)
    #expect(report.sidecar.explainer == "lime")
    #expect(report.sidecar.numFeatures == 1 && report.sidecar.featureSelection == "highest_weights")
    // A class whose probability does not move under the masks gets no weight at all.
    let nonzero = report.sidecar.segmenters.flatMap {
      $0.weights.map { $0.filter { $0 != 0 }.count }
    }
    #expect(nonzero.allSatisfy { $0 <= 1 } && nonzero.contains(1))
  }

  @Test(
    "without faithfulness the segmenters have no curves, and a sidecar from before issue #19 still decodes"
  )
  func optionalFields() throws {
    var reporter = try ExplanationReporterTests.reporter(seed: 1)
    reporter.measuresFaithfulness = false
    let report = try reporter.report(
      ExplanationReporterTests.image(brightLeft: true, level: 0.7), source: "t.png",
      shortName: "t", truth: nil)
    #expect(report.sidecar.segmenters.allSatisfy { $0.faithfulness == nil })
    #expect(report.sidecar.faithfulnessRankingLines.isEmpty)
    let old = """
      {"agreement":[null,null],"combined":[[1,-1],[-1,1]],"explained":["4","9"],"glimpseVersion":"0.1.0",\
      "height":1,"hideColor":"mean","model":{"classNames":["4","9"],"kind":"svm","path":"m","sha256":"ab"},\
      "png":"a.png","probabilities":{"4":0.6,"9":0.4},"samples":500,"seed":0,"segmenters":[{"intercepts":[0,0],\
      "localPredictions":[0,0],"r2":[1,1],"segmentCount":2,"segments":[0,1],"spec":"grid:2",\
      "weights":[[0.5,-0.5],[-0.5,0.5]]}],"source":"s","width":2}
      """
    let decoded = try ExplanationSidecar.decoded(from: Array(old.utf8))
    #expect(decoded.explainer == nil && decoded.segmenters[0].faithfulness == nil)
  }

  @Test("with three stability runs every segmenter records them and the summary gives the means")
  func stabilityReport() throws {
    var reporter = try ExplanationReporterTests.reporter(seed: 1)
    reporter.stabilityRuns = 3
    let report = try reporter.report(
      ExplanationReporterTests.image(brightLeft: true, level: 0.8), source: "t.png",
      shortName: "t", truth: nil)
    let stability = report.sidecar.segmenters.compactMap(\.stability)
    #expect(stability.count == 2 && stability.allSatisfy { $0.runs == 3 })
    // grid:2 has 4 segments: its top set is capped at 4, so every run has the same one.
    #expect(stability[0].topK == 4 && stability[0].topKJaccard == 1)
    #expect(report.summary.contains("; over 3 seeds ρ "))
    // The first run is the explanation itself: the weights equal a report without stability.
    reporter.stabilityRuns = 1
    let single = try reporter.report(
      ExplanationReporterTests.image(brightLeft: true, level: 0.8), source: "t.png",
      shortName: "t", truth: nil)
    #expect(single.sidecar.segmenters.map(\.weights) == report.sidecar.segmenters.map(\.weights))
    #expect(single.sidecar.segmenters.allSatisfy { $0.stability == nil })
  }

  @Test("segmenters rank by deletion AUC ascending and insertion AUC descending, ties in order")
  func ranking() {
    var sidecar = ExplanationReporterTests.sidecar
    let base = sidecar.segmenters[0]
    sidecar.segmenters = [("a", 0.3, 0.6), ("b", 0.1, 0.5), ("c", 0.3, 0.9)].map { spec, d, i in
      var s = base
      s.spec = spec
      s.faithfulness = .init(
        explained: "4", fractions: [], deletion: [], insertion: [], deletionAUC: d, insertionAUC: i)
      return s
    }
    let ranking = sidecar.faithfulnessRanking
    #expect(ranking.deletion.map(\.spec) == ["b", "a", "c"])
    #expect(ranking.insertion.map(\.spec) == ["c", "a", "b"])
    #expect(sidecar.faithfulnessRankingLines.count == 4)
    #expect(
      sidecar.faithfulnessRankingLines[1] == "  1. b  deletion 0.100  insertion 0.500 (rank 3)")
  }
}

import GlimpseAudit
import GlimpseCore
import GlimpseTestSupport
import Testing

@Suite struct ProfileTests {
  @Test("class counts, shapes, channel means and deviations, blank rows equal hand-computed values")
  func profile() {
    let shape = ImageShape(height: 1, width: 2, channels: 2)
    let images = AuditImages(
      shapes: [shape, shape, shape],
      samples: [[0, 255, 0, 255], [255, 255, 255, 255], [0, 0, 0, 0]],
      labels: ["b", "a", "b"], sources: ["0", "1", "2"], dataCount: 3)
    let profile = DatasetProfile(images)
    #expect(profile.classes.map(\.name) == ["a", "b"])
    #expect(profile.classes.map(\.count) == [1, 2])
    #expect(profile.imbalanceRatio == 2)
    #expect(profile.shapes.map(\.count) == [3])
    // Channel 0: 0, 0, 1, 1, 0, 0 → mean 1/3, deviation √(1/3 − 1/9); channel 1: 1, 1, 1, 1, 0, 0.
    #expect(abs(profile.channelMeans[0] - 1.0 / 3) < 1e-15)
    #expect(abs(profile.channelMeans[1] - 2.0 / 3) < 1e-15)
    #expect(abs(profile.channelDeviations[0] - (2.0 / 9).squareRoot()) < 1e-12)
    #expect(profile.blankRows == [1, 2])
    #expect(profile.imageMeans == [0.5, 1, 0])
  }

  @Test(
    "a stray row filed in a tight class ranks first among outliers, at several times the class median"
  )
  func outlierRanksFirst() {
    let shape = ImageShape(height: 8, width: 8)
    var samples = [[UInt8]]()
    // Class "a": a bright left half with a little seeded noise; row 6 is its mirror image.
    for seed in 0..<6 {
      let noise = randomValues(64, seed: UInt64(seed))
      samples.append((0..<64).map { UInt8(($0 % 8 < 4 ? 200 : 20) + Int(noise[$0] * 20)) })
    }
    samples.append((0..<64).map { $0 % 8 < 4 ? 20 : 200 })
    let images = AuditImages(
      shapes: Array(repeating: shape, count: 7), samples: samples,
      labels: Array(repeating: "a", count: 7), sources: (0..<7).map(String.init), dataCount: 7)
    let finder = NearDuplicateFinder()
    let outliers = images.outliers(descriptors: finder.descriptors(images), rows: 0..<7)
    #expect(outliers.first?.row == 6)
    #expect((outliers.first?.score ?? 0) > 3)
  }
}

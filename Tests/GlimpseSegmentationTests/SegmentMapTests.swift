import GlimpseCore
import Testing

@Suite("Segment maps")
struct SegmentMapTests {
  @Test("raw labels are relabelled 0..<count in increasing order of value")
  func relabelling() {
    let map = SegmentMap(width: 3, height: 2, relabeling: [5, 5, 9, 1, 9, 9])
    #expect(map.labels == [1, 1, 2, 0, 2, 2])
    #expect(map.count == 3)
    #expect(map.sizes == [1, 2, 3])
  }

  @Test("dense labels are kept as they are; other labels are relabelled as by relabeling:")
  func denseLabels() {
    let cases: [[Int32]] = [
      [1, 1, 2, 0, 2, 2], [0, 0, 0, 0, 0, 0], [5, 5, 9, 1, 9, 9], [0, 2, 2, 0, 3, 3],
      [-1, 0, 1, 1, 0, -1], [0, 1, 2, 3, 4, 5],
    ]
    for raw in cases {
      let dense = SegmentMap(width: 3, height: 2, denseLabels: raw)
      let relabelled = SegmentMap(width: 3, height: 2, relabeling: raw.map { Int($0) })
      #expect(dense == relabelled, "\(raw)")
    }
    #expect(
      SegmentMap(width: 3, height: 2, denseLabels: [1, 1, 2, 0, 2, 2]).labels == [1, 1, 2, 0, 2, 2])
  }

  @Test("boundary pixels are those with a 4-neighbour in another segment")
  func boundaries() {
    let map = SegmentMap(width: 3, height: 1, relabeling: [0, 0, 1])
    #expect(!map.isBoundary(x: 0, y: 0))
    #expect(map.isBoundary(x: 1, y: 0))
    #expect(map.isBoundary(x: 2, y: 0))
  }
}

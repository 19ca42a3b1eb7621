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

  @Test("boundary pixels are those with a 4-neighbour in another segment")
  func boundaries() {
    let map = SegmentMap(width: 3, height: 1, relabeling: [0, 0, 1])
    #expect(!map.isBoundary(x: 0, y: 0))
    #expect(map.isBoundary(x: 1, y: 0))
    #expect(map.isBoundary(x: 2, y: 0))
  }
}

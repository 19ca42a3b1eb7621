// Implementation notes (scikit-image 0.26's `_enforce_label_connectivity_cython`, in 2-D)
// 1. Pixels are visited in raster order; an unvisited pixel starts a new segment, grown
//    breadth-first over 4-neighbours (x+1, x−1, y+1, y−1, in that order) with the same k-means
//    label. Growth stops at `maxSize` pixels; the rest of that piece starts new segments later.
// 2. While growing, the last already-labelled neighbour of another segment is remembered; a
//    piece smaller than `minSize` takes that label ("like in the original paper"). A small
//    piece with no such neighbour keeps its new label, and since the counter is not advanced
//    the next piece shares it: scikit-image does so, and so do we, to give the same partition.
// 3. Pixels labelled -1 (never assigned) are left out, as scikit-image leaves its mask label.

extension SLICSegmenter {
  /// Relabels `labels` so that segments are 4-connected, merging pieces below `minSize`.
  /// - Returns: New labels from 0, in raster order of first appearance (-1 kept).
  static func enforceConnectivity(
    _ labels: [Int32], width: Int, height: Int, minSize: Int, maxSize: Int
  ) -> [Int32] {
    let pixelCount = width * height
    var connected = [Int32](repeating: -1, count: pixelCount)
    // scikit-image's coordinate list holds `max_size` entries; growth never exceeds it.
    let capacity = max(maxSize, 1)
    var queue = [Int](repeating: 0, count: capacity)
    labels.withUnsafeBufferPointer { labelBuffer in
      connected.withUnsafeMutableBufferPointer { connectedBuffer in
        queue.withUnsafeMutableBufferPointer { queueBuffer in
          guard let source = labelBuffer.baseAddress, let target = connectedBuffer.baseAddress,
            let list = queueBuffer.baseAddress
          else { return }
          var nextLabel: Int32 = 0
          for start in 0..<pixelCount {
            let original = source[start]
            if original < 0 || target[start] >= 0 { continue }
            var adjacent = nextLabel
            target[start] = nextLabel
            var size = 1
            var visited = 0
            list[0] = start
            while visited < size && size < maxSize {
              let p = list[visited]
              let x = p % width
              let y = p / width
              // x+1, x−1, y+1, y−1, as scikit-image's neighbour arrays.
              for direction in 0..<4 {
                let q: Int
                switch direction {
                case 0:
                  if x + 1 >= width { continue }
                  q = p + 1
                case 1:
                  if x == 0 { continue }
                  q = p - 1
                case 2:
                  if y + 1 >= height { continue }
                  q = p + width
                default:
                  if y == 0 { continue }
                  q = p - width
                }
                if source[q] == original && target[q] < 0 {
                  target[q] = nextLabel
                  list[size] = q
                  size += 1
                  if size >= maxSize { break }
                } else if target[q] >= 0 && target[q] != nextLabel {
                  adjacent = target[q]
                }
              }
              visited += 1
            }
            if size < minSize {
              for i in 0..<size { target[list[i]] = adjacent }
            } else {
              nextLabel += 1
            }
          }
        }
      }
    }
    return connected
  }
}

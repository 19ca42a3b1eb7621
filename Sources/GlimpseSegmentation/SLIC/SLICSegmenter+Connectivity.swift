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
    // The queue keeps each pixel's column beside its index, so that no division is needed to
    // find its neighbours (a division per visited pixel was half of this pass's time).
    var queue = [Int](repeating: 0, count: capacity)
    var queueColumns = [Int](repeating: 0, count: capacity)
    labels.withUnsafeBufferPointer { labelBuffer in
      connected.withUnsafeMutableBufferPointer { connectedBuffer in
        queue.withUnsafeMutableBufferPointer { queueBuffer in
          queueColumns.withUnsafeMutableBufferPointer { columnBuffer in
            guard let source = labelBuffer.baseAddress, let target = connectedBuffer.baseAddress,
              let list = queueBuffer.baseAddress, let columns = columnBuffer.baseAddress
            else { return }
            let lastRowStart = (height - 1) * width
            var nextLabel: Int32 = 0
            for start in 0..<pixelCount {
              let original = source[start]
              if original < 0 || target[start] >= 0 { continue }
              var adjacent = nextLabel
              target[start] = nextLabel
              var size = 1
              var visited = 0
              list[0] = start
              columns[0] = start % width
              // Offers neighbour q (column qx); returns true when the piece is full.
              @inline(__always) func offer(_ q: Int, _ qx: Int) -> Bool {
                let other = target[q]
                if other < 0 {
                  if source[q] == original {
                    target[q] = nextLabel
                    list[size] = q
                    columns[size] = qx
                    size += 1
                    return size >= maxSize
                  }
                } else if other != nextLabel {
                  adjacent = other
                }
                return false
              }
              while visited < size && size < maxSize {
                let p = list[visited]
                let x = columns[visited]
                visited += 1
                // x+1, x−1, y+1, y−1, as scikit-image's neighbour arrays.
                if x + 1 < width && offer(p + 1, x + 1) { break }
                if x > 0 && offer(p - 1, x - 1) { break }
                if p < lastRowStart && offer(p + width, x) { break }
                if p >= width && offer(p - width, x) { break }
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
    }
    return connected
  }
}

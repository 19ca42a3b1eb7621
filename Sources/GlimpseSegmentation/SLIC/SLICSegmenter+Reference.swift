import GlimpseCore

// Implementation notes (`_slic_cython` of scikit-image 0.26 with its mask, spacing and SLICO)
// 1. The options this path serves (a mask, a spacing other than 1, SLICO) change the
//    distance or which pixels count, which the pruned and vectorised k-means of
//    `+KMeans` assumes away; this is the computation as `_slic_cython` states it, in `Double`,
//    one centre after another over its window, so it gives scikit-image's labels exactly.
// 2. Distance: D = ((s_y·Δy)² + (s_x·Δx)²) / S² + Σ_c Δc², the colour sum divided by the
//    centre's largest colour distance so far under SLICO (which starts at 1 and only grows,
//    "as the reference implementation"); a pixel takes a centre when D is strictly smaller,
//    so the lowest-numbered centre wins ties. Pixels outside the mask are never assigned.
// 3. Under a mask scikit-image runs the loop twice: first on positions alone
//    (`ignore_color`), which moves the k-means seeds onto the mask's shape and leaves the
//    colour means of its last update as the second run's starting colours.
// 4. Centres are sums in raster order divided by the count; an empty centre becomes NaN and is
//    never chosen again (scikit-image still visits its whole-image window, to no effect).

extension SLICSegmenter {
  /// The k-means state of the reference path: centres as (y, x, colour…).
  struct ReferenceCentres {
    var rows: [Double]
    var columns: [Double]
    /// `count × channels`.
    var colours: [Double]
  }

  /// scikit-image's `_slic_cython` on `features` (already scaled by 1 / compactness).
  /// - Parameters:
  ///   - inside: the mask, or `nil` for every pixel.
  ///   - step: S, as the float32 scikit-image passes.
  ///   - ignoreColour: position-only distance (maskSLIC's first run).
  /// - Returns: Each pixel's centre, -1 where no centre took it (outside the mask).
  static func referenceKMeans(
    _ features: FeaturePlanes, centres: inout ReferenceCentres, inside: [Bool]?, step: Float,
    iterations: Int, spacing: (row: Double, column: Double), slicZero: Bool, ignoreColour: Bool
  ) -> [Int32] {
    let width = features.width
    let height = features.height
    let channels = features.channels
    let pixelCount = features.pixelCount
    let count = centres.rows.count
    let planes = features.values
    let colourWeight = features.colourWeight
    // `1.0 / (step * step)` with step a float32: the product rounds to float32.
    let spatialWeight = 1.0 / Double(step * step)
    let windows = regularGrid(shape: [1, height, width], pointCount: count)
    let stepY = Double(windows[1].step)
    let stepX = Double(windows[2].step)
    var labels = [Int32](repeating: -1, count: pixelCount)
    var distance = [Double](repeating: 0, count: pixelCount)
    var largestColour = [Double](repeating: 1, count: count)

    func colourDistance(_ p: Int, _ k: Int) -> Double {
      var sum = 0.0
      for c in 0..<channels {
        let t = planes[c * pixelCount + p] - centres.colours[k * channels + c]
        sum += t * t
      }
      // A grey image read as its three-channel copy: three equal squares (see FeaturePlanes).
      return colourWeight == 1 ? sum : sum * colourWeight
    }

    for _ in 0..<iterations {
      var changed = false
      for p in 0..<pixelCount { distance[p] = .greatestFiniteMagnitude }
      for k in 0..<count {
        let cy = centres.rows[k]
        let cx = centres.columns[k]
        guard !cy.isNaN, !cx.isNaN else { continue }
        let yMin = Int(max(cy - 2 * stepY, 0))
        let yMax = Int(min(cy + 2 * stepY + 1, Double(height)))
        let xMin = Int(max(cx - 2 * stepX, 0))
        let xMax = Int(min(cx + 2 * stepX + 1, Double(width)))
        guard yMin < yMax, xMin < xMax else { continue }
        for y in yMin..<yMax {
          var dy = spacing.row * (cy - Double(y))
          dy *= dy
          for x in xMin..<xMax {
            let p = y * width + x
            if let inside, !inside[p] { continue }
            var dx = spacing.column * (cx - Double(x))
            dx *= dx
            // scikit-image adds dz (0 in 2-D) first: (0 + dy) + dx.
            var d = (0 + dy + dx) * spatialWeight
            if !ignoreColour {
              var colour = colourDistance(p, k)
              if slicZero { colour /= largestColour[k] }
              d += colour
            }
            if distance[p] > d {
              labels[p] = Int32(k)
              distance[p] = d
              changed = true
            }
          }
        }
      }
      if !changed { break }

      var members = [Int](repeating: 0, count: count)
      var sumRows = [Double](repeating: 0, count: count)
      var sumColumns = [Double](repeating: 0, count: count)
      var sumColours = [Double](repeating: 0, count: count * channels)
      for p in 0..<pixelCount {
        let k = Int(labels[p])
        guard k >= 0 else { continue }
        members[k] += 1
        sumRows[k] += Double(p / width)
        sumColumns[k] += Double(p % width)
        for c in 0..<channels { sumColours[k * channels + c] += planes[c * pixelCount + p] }
      }
      for k in 0..<count {
        let n = Double(members[k])
        centres.rows[k] = sumRows[k] / n
        centres.columns[k] = sumColumns[k] / n
        for c in 0..<channels {
          centres.colours[k * channels + c] = sumColours[k * channels + c] / n
        }
      }
      if slicZero {
        for p in 0..<pixelCount {
          let k = Int(labels[p])
          guard k >= 0 else { continue }
          let colour = colourDistance(p, k)
          if largestColour[k] < colour { largestColour[k] = colour }
        }
      }
    }
    return labels
  }
}

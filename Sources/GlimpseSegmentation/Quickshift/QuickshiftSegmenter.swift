import GlimpseCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Implementation notes (scikit-image 0.26's `quickshift` and `_quickshift_cython`)
// 1. Features are (ratio · colour, y, x), colour in Lab by default. The density at a pixel is
//    Σ exp(−d² / 2·kernel_size²) over the (2w+1)² window, w = ⌈3 · kernel_size⌉, summed in the
//    window's raster order onto a small random jitter; the parent of a pixel is the nearest
//    (squared distance, first in raster order on ties) pixel of strictly higher density in the
//    same window. Links longer than `max_dist` are cut; each tree is a segment, named by its
//    root, so labels come out in the roots' raster order.
// 2. The jitter: scikit-image adds N(0, 10⁻⁵) noise from NumPy's `default_rng(42)` so that
//    flat regions, where densities tie, still have a direction. We add the same-sized noise
//    from Glimpse's `SeededGenerator(seed: 42)` (Box–Muller): reproducible, but other draws,
//    so where densities tie within ~10⁻⁵ the trees can differ from scikit-image's.
//    `segment(_:densityJitter:)` takes explicit draws (NumPy's, saved by the fixture script)
//    and then reproduces scikit-image exactly; everything else is computed in its order, with
//    the same `exp`.
// 3. Both passes are split into bands of rows run in parallel; each pixel's sums and searches
//    run in scikit-image's order whatever the band, so results do not depend on the core count.

/// Segments an image by linking each pixel to its nearest neighbour of higher density:
/// Vedaldi & Soatto's quick shift.
///
/// Mirrors scikit-image 0.26's `quickshift(image, ratio=1.0, kernel_size=5, max_dist=10,
/// sigma=0, convert2lab=True)`: `ratio` weighs colour against position, `kernelSize` is the
/// Gaussian density kernel's width, `maxDistance` cuts links (higher gives fewer segments),
/// `sigma` pre-smooths and `convertToLab` converts RGB to CIE Lab (D65). Values are used as
/// they are (no rescaling), so give images in [0, 1] as scikit-image expects.
///
/// **Grey images** (`greyAsRGB`, default `true`): a grey image is segmented as lime's
/// `gray2rgb` copy of it, which is what lime (whose default segmenter this is) passes: with
/// `convertToLab`, the Lab image of `(g, g, g)`; without it, the grey distance counted three
/// times (`3 t²`, exact as for SLIC's `greyAsRGB`). With `greyAsRGB = false` it is segmented as
/// scikit-image's `quickshift(grey, convert2lab=False)` segments the 2-D array: one channel,
/// weighted once, never converted to Lab (scikit-image refuses Lab for one channel). Images
/// with 2 or 4 channels are never converted to Lab; their channels are used as they are.
///
/// - Complexity: O(pixels × (2w+1)²) `exp` evaluations, w = ⌈3 · kernelSize⌉; on all cores.
///
/// Vedaldi & Soatto, "Quick Shift and Kernel Methods for Mode Seeking", ECCV 2008,
/// doi:10.1007/978-3-540-88693-8_52, eq. (5) for the density and section 3 for the tree.
public struct QuickshiftSegmenter: Segmenter {
  /// Width of the Gaussian density kernel, scikit-image's `kernel_size` (default 5; ≥ 1).
  public var kernelSize: Double
  /// Links longer than this are cut, `max_dist` (default 10).
  public var maxDistance: Double
  /// Weight of colour against position, `ratio` (default 1; scikit-image suggests 0…1).
  public var ratio: Double
  /// Standard deviation in pixels of the Gaussian pre-smoothing, `sigma` (default 0, none).
  public var sigma: Double
  /// Whether RGB (and grey) images are converted to CIE Lab, `convert2lab` (default `true`).
  public var convertToLab: Bool
  /// Seed of the tie-breaking jitter (scikit-image's `rng`, default 42).
  public var seed: UInt64
  /// Whether a grey image is segmented as its three-channel copy, as lime's pipeline does
  /// (default `true`), or as scikit-image's one channel; see the type's discussion.
  public var greyAsRGB: Bool

  /// A quick shift segmenter; every default is scikit-image's.
  public init(
    kernelSize: Double = 5, maxDistance: Double = 10, ratio: Double = 1, sigma: Double = 0,
    convertToLab: Bool = true, seed: UInt64 = 42, greyAsRGB: Bool = true
  ) {
    self.greyAsRGB = greyAsRGB
    self.kernelSize = kernelSize
    self.maxDistance = maxDistance
    self.ratio = ratio
    self.sigma = sigma
    self.convertToLab = convertToLab
    self.seed = seed
  }

  /// `quickshift:kernel_size:max_dist:ratio`, trailing defaults left out, then `sigma`,
  /// `convert2lab` and `gray2rgb` when they are not the defaults (the seed has no place).
  public var spec: SegmenterSpec {
    var parameters = [kernelSize, maxDistance, ratio]
    let defaults: [Double] = [5, 10, 1]
    while let last = parameters.last, last == defaults[parameters.count - 1] {
      parameters.removeLast()
    }
    var options: [SegmenterSpec.Option] = []
    if sigma != 0 { options.append(.init(name: "sigma", values: [sigma])) }
    if !convertToLab { options.append(.init(name: "convert2lab", values: [0])) }
    if !greyAsRGB { options.append(.init(name: "gray2rgb", values: [0])) }
    return SegmenterSpec(kind: .quickshift, parameters: parameters, options: options)
  }

  /// Segments an image, breaking density ties with N(0, 10⁻⁵) noise drawn from `seed`.
  /// - Parameter image: `[height, width, channels]`, values usually in [0, 1].
  /// - Returns: Labels `0..<count` in raster order of each tree's root.
  public func segment(_ image: Image) -> SegmentMap {
    var generator = SeededGenerator(seed: seed)
    var jitter = [Double](repeating: 0, count: image.width * image.height)
    var index = 0
    while index < jitter.count {
      // Box–Muller: two independent normals from two uniforms in (0, 1].
      let u = 1 - generator.nextUnitDouble()
      let v = generator.nextUnitDouble()
      let radius = (-2 * log(u)).squareRoot() * 0.00001
      jitter[index] = radius * cos(2 * Double.pi * v)
      if index + 1 < jitter.count { jitter[index + 1] = radius * sin(2 * Double.pi * v) }
      index += 2
    }
    return segment(image, densityJitter: jitter)
  }

  /// Segments an image with the given density jitter instead of drawing it.
  ///
  /// With `np.random.default_rng(42).normal(scale=1e-5, size=(height, width))` as the jitter
  /// the labels are scikit-image's exactly; the tests use this to check the algorithm itself.
  /// - Parameter densityJitter: `[height × width]`, row-major, added to each pixel's density.
  /// - Precondition: `kernelSize ≥ 1`, `maxDistance ≥ 0`, `ratio ≥ 0`, `sigma ≥ 0`.
  public func segment(_ image: Image, densityJitter: [Double]) -> SegmentMap {
    precondition(kernelSize >= 1, "kernelSize (\(kernelSize)) must be at least 1")
    precondition(maxDistance >= 0, "maxDistance (\(maxDistance)) must not be negative")
    precondition(ratio >= 0, "ratio (\(ratio)) must not be negative")
    precondition(sigma >= 0, "sigma (\(sigma)) must not be negative")
    precondition(
      densityJitter.count == image.width * image.height,
      "densityJitter.count (\(densityJitter.count)) != \(image.width)×\(image.height)")

    var features = FeaturePlanes(image)
    if convertToLab {
      features.convertToLab(greyAsRGB: greyAsRGB)
    }
    if features.isGrey(readAsRGB: greyAsRGB) {
      features.colourWeight = 3
    }
    features.smooth(sigma: sigma)
    features.scale(by: ratio)

    let parents = Self.parents(features, jitter: densityJitter, kernelSize: kernelSize)
    // Cut links longer than max_dist, then name every pixel by its tree's root.
    var root = [Int](repeating: 0, count: parents.parent.count)
    for p in root.indices {
      root[p] = parents.distance[p] > maxDistance ? p : parents.parent[p]
    }
    var changed = true
    while changed {
      changed = false
      for p in root.indices {
        let next = root[root[p]]
        if next != root[p] {
          root[p] = next
          changed = true
        }
      }
    }
    return SegmentMap(width: image.width, height: image.height, relabeling: root)
  }

  /// Densities, then each pixel's nearest pixel of higher density and the distance to it
  /// (√(Double.greatestFiniteMagnitude) when there is none, which any `maxDistance` cuts).
  static func parents(_ features: FeaturePlanes, jitter: [Double], kernelSize: Double)
    -> (parent: [Int], distance: [Double])
  {
    let width = features.width
    let height = features.height
    let channels = features.channels
    let pixelCount = features.pixelCount
    let weight = features.colourWeight
    let inverseKernel = -0.5 / (kernelSize * kernelSize)
    let reach = Int((3 * kernelSize).rounded(.up))
    let bands = contiguousChunks(
      of: height, parts: pixelCount >= 4096 ? min(height, 4 * Parallelism.threadCount) : 1)

    var density = jitter
    var parent = Array(0..<pixelCount)
    var distance = [Double](repeating: 0, count: pixelCount)
    features.values.withUnsafeBufferPointer { planeBuffer in
      density.withUnsafeMutableBufferPointer { densityBuffer in
        parent.withUnsafeMutableBufferPointer { parentBuffer in
          distance.withUnsafeMutableBufferPointer { distanceBuffer in
            guard let planes = planeBuffer.baseAddress, let density = densityBuffer.baseAddress,
              let parent = parentBuffer.baseAddress, let distance = distanceBuffer.baseAddress
            else { return }

            // The squared feature distance between pixels (r, c) and (r2, c2), summed in
            // scikit-image's order: channels, then rows, then columns.
            @inline(__always)
            func squaredDistance(_ r: Int, _ c: Int, _ r2: Int, _ c2: Int) -> Double {
              let p = r * width + c
              let q = r2 * width + c2
              var d = 0.0
              if channels == 1 {
                let t = planes[p] - planes[q]
                d = weight * (t * t)
              } else {
                for channel in 0..<channels {
                  let t = planes[channel * pixelCount + p] - planes[channel * pixelCount + q]
                  d += t * t
                }
              }
              var t = Double(r - r2)
              d += t * t
              t = Double(c - c2)
              d += t * t
              return d
            }

            _ = parallelMap(bands.count) { band in
              for r in bands[band] {
                let rMin = max(r - reach, 0)
                let rMax = min(r + reach + 1, height)
                for c in 0..<width {
                  let cMin = max(c - reach, 0)
                  let cMax = min(c + reach + 1, width)
                  var sum = density[r * width + c]
                  for r2 in rMin..<rMax {
                    for c2 in cMin..<cMax {
                      sum += exp(squaredDistance(r, c, r2, c2) * inverseKernel)
                    }
                  }
                  density[r * width + c] = sum
                }
              }
              return 0
            }

            _ = parallelMap(bands.count) { band in
              for r in bands[band] {
                let rMin = max(r - reach, 0)
                let rMax = min(r + reach + 1, height)
                for c in 0..<width {
                  let own = density[r * width + c]
                  var closest = Double.greatestFiniteMagnitude
                  var best = r * width + c
                  let cMin = max(c - reach, 0)
                  let cMax = min(c + reach + 1, width)
                  for r2 in rMin..<rMax {
                    for c2 in cMin..<cMax where density[r2 * width + c2] > own {
                      let d = squaredDistance(r, c, r2, c2)
                      if d < closest {
                        closest = d
                        best = r2 * width + c2
                      }
                    }
                  }
                  parent[r * width + c] = best
                  distance[r * width + c] = closest.squareRoot()
                }
              }
              return 0
            }
          }
        }
      }
    }
    return (parent, distance)
  }
}

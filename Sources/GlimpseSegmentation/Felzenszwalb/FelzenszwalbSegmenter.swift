import GlimpseCore

// Implementation notes (scikit-image 0.26's `_felzenszwalb_cython`)
// 1. The image is smoothed per channel (scipy's Gaussian, 'reflect'), then every pixel is
//    joined to its right, lower, lower-right and upper-right neighbour (8-connectivity) by an
//    edge weighted with the Euclidean distance of the two colours. Edges are listed as
//    scikit-image stacks them (all right edges, then down, down-right, up-right, each
//    row-major) and sorted by weight.
// 2. Kruskal-style merging with the paper's predicate: components C1, C2 joined by an edge of
//    weight w merge when w < min(Int(C1) + k/|C1|, Int(C2) + k/|C2|), k = scale / 255, Int(C)
//    being the weight of the edge that last grew C (the largest of its spanning tree, since
//    edges come in increasing order). scikit-image stores each side of that minimum as a
//    float32, and so do we, since a comparison can turn on it.
// 3. Then, in the same edge order, any edge between two components one of which is smaller
//    than `minSize` merges them.
// 4. The union-find is scikit-image's (`measure._ccomp`): the smaller index becomes the root
//    and both paths are compressed onto it, so each final segment is named by its smallest
//    pixel index and labels come out in raster order of each segment's first pixel.
// 5. Deviation: NumPy sorts the weights with its unstable quicksort, so equal weights (large
//    flat areas) are taken in an order we cannot reproduce; we break ties by edge position,
//    i.e. we sort stably. Ties rarely change the partition, except at scale 0, where nothing
//    merges by weight and the tie order alone decides: there the fixtures compare with
//    scikit-image run with a stable `np.argsort`, and the partitions are identical.

/// Segments an image by merging pixels along a minimum spanning forest: Felzenszwalb &
/// Huttenlocher's graph-based segmentation.
///
/// Mirrors scikit-image 0.26's `felzenszwalb(image, scale=1, sigma=0.8, min_size=20)`: `scale`
/// is the paper's k (on 8-bit-scaled values: scikit-image divides it by 255 for images in
/// [0, 1]), `sigma` the Gaussian pre-smoothing and `minSize` the smallest segment kept. Colour
/// images use the Euclidean distance between pixels' colours on the 8-connected grid. Values
/// are used as they are (no rescaling), so give images in [0, 1] as scikit-image expects.
///
/// **Grey images** (`greyAsRGB`, default `true`): as lime's pipeline hands segmenters a
/// `gray2rgb` copy, a grey image is segmented as that three-channel copy is, whose edge
/// weights are √3 times the grey differences; the weight is computed from the one channel
/// (√(3 d²), which rounds as the copy's sum of three equal squares does), without a copy.
/// With `greyAsRGB = false` it is segmented as scikit-image segments the 2-D array.
///
/// - Complexity: O(E log E) for E ≈ 4 × pixels edges (the sort); the merging is near linear.
///
/// Felzenszwalb & Huttenlocher, "Efficient Graph-Based Image Segmentation", IJCV 59(2), 2004,
/// doi:10.1023/B:VISI.0000022288.19776.77, Algorithm 1 and eq. (5) for the threshold τ = k/|C|.
public struct FelzenszwalbSegmenter: Segmenter {
  /// The observation scale k, scikit-image's `scale` (default 1, 0 allowed). Higher gives
  /// larger segments.
  public var scale: Double
  /// Standard deviation in pixels of the Gaussian smoothing, `sigma` (default 0.8).
  public var sigma: Double
  /// Segments smaller than this are merged into a neighbour, `min_size` (default 20).
  public var minSize: Int
  /// Whether a grey image is segmented as its three-channel copy (default `true`).
  public var greyAsRGB: Bool

  /// A Felzenszwalb segmenter; every default is scikit-image's.
  public init(scale: Double = 1, sigma: Double = 0.8, minSize: Int = 20, greyAsRGB: Bool = true) {
    self.scale = scale
    self.sigma = sigma
    self.minSize = minSize
    self.greyAsRGB = greyAsRGB
  }

  /// `felzenszwalb:scale:sigma:min_size`, trailing defaults left out, then `gray2rgb=0` when a
  /// grey image is read as one channel.
  public var spec: SegmenterSpec {
    var parameters = [scale, sigma, Double(minSize)]
    let defaults: [Double] = [1, 0.8, 20]
    while let last = parameters.last, last == defaults[parameters.count - 1] {
      parameters.removeLast()
    }
    return SegmenterSpec(
      kind: .felzenszwalb, parameters: parameters,
      options: greyAsRGB ? [] : [.init(name: "gray2rgb", values: [0])])
  }

  /// Segments an image.
  /// - Parameter image: `[height, width, channels]`, values usually in [0, 1].
  /// - Returns: Labels `0..<count` in raster order of each segment's first pixel.
  /// - Precondition: `scale ≥ 0` (0 merges only across zero-weight edges, then by `minSize`,
  ///   as scikit-image allows), `sigma ≥ 0`, `minSize ≥ 0`.
  public func segment(_ image: Image) -> SegmentMap {
    precondition(scale >= 0, "scale (\(scale)) must not be negative")
    precondition(sigma >= 0, "sigma (\(sigma)) must not be negative")
    precondition(minSize >= 0, "minSize (\(minSize)) must not be negative")
    var features = FeaturePlanes(image)
    if features.isGrey(readAsRGB: greyAsRGB) { features.colourWeight = 3 }
    features.smooth(sigma: sigma)

    let (edges, weights) = Self.edges(of: features)
    let order = weights.indices.sorted { a, b in
      weights[a] < weights[b] || (weights[a] == weights[b] && a < b)
    }
    let roots = Self.merge(
      edges: edges, weights: weights, order: order, pixelCount: features.pixelCount,
      k: scale / 255.0, minSize: minSize)
    return SegmentMap(width: image.width, height: image.height, relabeling: roots)
  }

  /// The 8-connected grid's edges `(a, b)` (flattened pairs) and their colour distances, in
  /// scikit-image's order: right, down, down-right, up-right.
  static func edges(of features: FeaturePlanes) -> (edges: [Int], weights: [Double]) {
    let width = features.width
    let height = features.height
    let pixelCount = features.pixelCount
    var edges: [Int] = []
    var weights: [Double] = []
    let capacity = max(0, 4 * width * height)
    edges.reserveCapacity(2 * capacity)
    weights.reserveCapacity(capacity)
    features.values.withUnsafeBufferPointer { buffer in
      guard let planes = buffer.baseAddress else { return }
      let channels = features.channels
      let weight = features.colourWeight
      func add(_ a: Int, _ b: Int) {
        var sum = 0.0
        for c in 0..<channels {
          let t = planes[c * pixelCount + a] - planes[c * pixelCount + b]
          sum += t * t
        }
        edges.append(a)
        edges.append(b)
        weights.append((weight * sum).squareRoot())
      }
      for y in 0..<height { for x in 0..<(width - 1) { add(y * width + x + 1, y * width + x) } }
      for y in 0..<(height - 1) { for x in 0..<width { add((y + 1) * width + x, y * width + x) } }
      for y in 0..<(height - 1) {
        for x in 0..<(width - 1) { add((y + 1) * width + x + 1, y * width + x) }
      }
      for y in 0..<(height - 1) {
        for x in 0..<(width - 1) { add(y * width + x + 1, (y + 1) * width + x) }
      }
    }
    return (edges, weights)
  }

  /// Merges components along the sorted edges, then absorbs components below `minSize`.
  /// - Returns: Each pixel's root (its segment's smallest pixel index).
  static func merge(
    edges: [Int], weights: [Double], order: [Int], pixelCount: Int, k: Double, minSize: Int
  ) -> [Int] {
    var forest = Array(0..<pixelCount)
    var size = [Int](repeating: 1, count: pixelCount)
    var innerCost = [Double](repeating: 0, count: pixelCount)
    forest.withUnsafeMutableBufferPointer { forestBuffer in
      guard let forest = forestBuffer.baseAddress else { return }
      for e in order {
        let a = findRoot(forest, edges[2 * e])
        let b = findRoot(forest, edges[2 * e + 1])
        if a == b { continue }
        let threshold0 = Float(innerCost[a] + k / Double(size[a]))
        let threshold1 = Float(innerCost[b] + k / Double(size[b]))
        let w = weights[e]
        if w < Double(min(threshold0, threshold1)) {
          joinTrees(forest, a, b)
          let root = findRoot(forest, a)
          size[root] = size[a] + size[b]
          innerCost[root] = w
        }
      }
      for e in order {
        let a = findRoot(forest, edges[2 * e])
        let b = findRoot(forest, edges[2 * e + 1])
        if a == b { continue }
        if size[a] < minSize || size[b] < minSize {
          joinTrees(forest, a, b)
          let root = findRoot(forest, a)
          size[root] = size[a] + size[b]
        }
      }
      for p in 0..<pixelCount { forest[p] = findRoot(forest, p) }
    }
    return forest
  }
}

/// The root of `n`: follow parents while they are smaller (scikit-image's `find_root`).
@inline(__always)
func findRoot(_ forest: UnsafeMutablePointer<Int>, _ n: Int) -> Int {
  var root = n
  while forest[root] < root { root = forest[root] }
  return root
}

/// Points every node on the path from `n` to its root at `root` (scikit-image's `set_root`).
@inline(__always)
func setRoot(_ forest: UnsafeMutablePointer<Int>, _ n: Int, _ root: Int) {
  var n = n
  while forest[n] < n {
    let next = forest[n]
    forest[n] = root
    n = next
  }
  forest[n] = root
}

/// Joins the trees of `n` and `m` under the smaller of their roots (scikit-image's
/// `join_trees`).
@inline(__always)
func joinTrees(_ forest: UnsafeMutablePointer<Int>, _ n: Int, _ m: Int) {
  guard n != m else { return }
  let root = min(findRoot(forest, n), findRoot(forest, m))
  setRoot(forest, n, root)
  setRoot(forest, m, root)
}

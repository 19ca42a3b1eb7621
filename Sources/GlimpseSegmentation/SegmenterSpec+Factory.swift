import GlimpseCore

extension SegmenterSpec {
  /// Builds the segmenter the spec names, after checking its parameters.
  ///
  /// Parameter orders (missing trailing parameters take the defaults in brackets, which are
  /// scikit-image's except SLIC's `convert2lab`, which follows the seed notebook):
  ///
  /// | spec | parameters |
  /// |---|---|
  /// | `slic:n_segments:compactness:sigma:max_num_iter:convert2lab` | n ≥ 1 integer [100], compactness > 0 [10], sigma ≥ 0 [0], iterations ≥ 1 integer [10], convert2lab 0 or 1 [0: no Lab, as lime's seed calls] |
  /// | `grid:n` | n ≥ 1 integer, required |
  /// | `felzenszwalb:scale:sigma:min_size` | scale > 0 [1], sigma ≥ 0 [0.8], min_size ≥ 0 integer [20] |
  /// | `quickshift:kernel_size:max_dist:ratio` | kernel_size ≥ 1 [5], max_dist ≥ 0 [10], ratio ≥ 0 [1] |
  ///
  /// So `slic:25:0.1` is the seed's SLIC (25 segments, compactness 0.1, RGB distance) and
  /// `slic:250:10:0:10:1` is scikit-image's `slic(image, n_segments=250)` with Lab. Grey images
  /// are segmented as their three-channel copy (`greyAsRGB`), as lime's pipeline does.
  /// - Throws: `SegmenterSpecError` naming the parameter and the allowed values, or too many
  ///   parameters.
  public func makeSegmenter() throws(SegmenterSpecError) -> any Segmenter {
    switch kind {
    case .slic:
      try checkCount(maximum: 5, names: "n_segments:compactness:sigma:max_num_iter:convert2lab")
      let defaults = SLICSegmenter()
      return SLICSegmenter(
        segmentCount: try integer(0, "n_segments", default: defaults.segmentCount, minimum: 1),
        compactness: try positive(1, "compactness", default: defaults.compactness),
        maxIterations: try integer(3, "max_num_iter", default: defaults.maxIterations, minimum: 1),
        sigma: try nonNegative(2, "sigma", default: defaults.sigma),
        convertToLab: try flag(4, "convert2lab", default: false))
    case .grid:
      try checkCount(maximum: 1, names: "n")
      guard !parameters.isEmpty else {
        throw SegmenterSpecError(
          spec: description, reason: "grid needs n, the cells per side (grid:7)")
      }
      return GridSegmenter(cellsPerSide: try integer(0, "n", default: 1, minimum: 1))
    case .felzenszwalb:
      try checkCount(maximum: 3, names: "scale:sigma:min_size")
      let defaults = FelzenszwalbSegmenter()
      return FelzenszwalbSegmenter(
        scale: try positive(0, "scale", default: defaults.scale),
        sigma: try nonNegative(1, "sigma", default: defaults.sigma),
        minSize: try integer(2, "min_size", default: defaults.minSize, minimum: 0))
    case .quickshift:
      try checkCount(maximum: 3, names: "kernel_size:max_dist:ratio")
      let defaults = QuickshiftSegmenter()
      let kernelSize = parameters.count > 0 ? parameters[0] : defaults.kernelSize
      guard kernelSize >= 1 else {
        throw error("kernel_size must be at least 1, got \(format(kernelSize))")
      }
      return QuickshiftSegmenter(
        kernelSize: kernelSize,
        maxDistance: try nonNegative(1, "max_dist", default: defaults.maxDistance),
        ratio: try nonNegative(2, "ratio", default: defaults.ratio))
    }
  }

  private func error(_ reason: String) -> SegmenterSpecError {
    SegmenterSpecError(spec: description, reason: reason)
  }

  private func format(_ value: Double) -> String {
    SegmenterSpec(kind: kind, parameters: [value]).description.split(separator: ":").last
      .map(String.init) ?? "\(value)"
  }

  private func checkCount(maximum: Int, names: String) throws(SegmenterSpecError) {
    if parameters.count > maximum {
      throw error(
        "\(kind.rawValue) takes at most \(maximum) parameter\(maximum == 1 ? "" : "s") "
          + "(\(kind.rawValue):\(names)), got \(parameters.count)")
    }
  }

  private func integer(_ index: Int, _ name: String, default value: Int, minimum: Int)
    throws(SegmenterSpecError) -> Int
  {
    guard index < parameters.count else { return value }
    let given = parameters[index]
    guard given == given.rounded(), abs(given) < 1e15 else {
      throw error("\(name) must be an integer, got \(format(given))")
    }
    guard Int(given) >= minimum else {
      throw error("\(name) must be at least \(minimum), got \(format(given))")
    }
    return Int(given)
  }

  private func positive(_ index: Int, _ name: String, default value: Double)
    throws(SegmenterSpecError) -> Double
  {
    guard index < parameters.count else { return value }
    guard parameters[index] > 0 else {
      throw error("\(name) must be positive, got \(format(parameters[index]))")
    }
    return parameters[index]
  }

  private func nonNegative(_ index: Int, _ name: String, default value: Double)
    throws(SegmenterSpecError) -> Double
  {
    guard index < parameters.count else { return value }
    guard parameters[index] >= 0 else {
      throw error("\(name) must not be negative, got \(format(parameters[index]))")
    }
    return parameters[index]
  }

  private func flag(_ index: Int, _ name: String, default value: Bool)
    throws(SegmenterSpecError) -> Bool
  {
    guard index < parameters.count else { return value }
    switch parameters[index] {
    case 0: return false
    case 1: return true
    default: throw error("\(name) must be 0 or 1, got \(format(parameters[index]))")
    }
  }
}

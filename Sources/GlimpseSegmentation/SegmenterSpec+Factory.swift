import GlimpseCore

extension SegmenterSpec {
  /// Builds the segmenter the spec names, after checking its parameters.
  ///
  /// Parameters may be positional (in the orders below) or named (`name=value`, scikit-image's
  /// argument names); missing ones take scikit-image 0.26's defaults, in brackets:
  ///
  /// | spec | positional | named only |
  /// |---|---|---|
  /// | `slic` | n_segments ≥ 1 integer [100], compactness > 0 [10], sigma ≥ 0 [0], max_num_iter ≥ 1 integer [10], convert2lab 0 or 1 [Lab for 3 channels] | `sigma=σy,σx`, `spacing=row,column` > 0 [1,1], `slic_zero` [0], `enforce_connectivity` [1], `min_size_factor` ≥ 0 [0.5], `max_size_factor` > 0 [3], `gray2rgb` [1] |
  /// | `grid` | n ≥ 1 integer, required | |
  /// | `felzenszwalb` | scale ≥ 0 [1], sigma ≥ 0 [0.8], min_size ≥ 0 integer [20] | `gray2rgb` [1] |
  /// | `quickshift` | kernel_size ≥ 1 [5], max_dist ≥ 0 [10], ratio ≥ 0 [1] | `sigma` ≥ 0 [0], `convert2lab` [1], `gray2rgb` [1] |
  ///
  /// So `slic:250:10` is scikit-image's `slic(image, 250, 10)` (Lab on a colour image) and
  /// `slic:25:0.1:0:10:0` the seed's SLIC (25 segments, compactness 0.1, no Lab).
  /// - Parameter mask: SLIC's region of interest (scikit-image's `mask`), or `nil`; other
  ///   segmenters refuse one.
  /// - Throws: `SegmenterSpecError` naming the parameter and the allowed values, too many
  ///   positional parameters, or an unknown name.
  public func makeSegmenter(mask: RegionMask? = nil) throws(SegmenterSpecError) -> any Segmenter {
    if mask != nil && kind != .slic {
      throw error("a region of interest (mask) is only offered for slic")
    }
    switch kind {
    case .slic:
      let names = ["n_segments", "compactness", "sigma", "max_num_iter", "convert2lab"]
      try check(
        positional: names,
        named: [
          "slic_zero", "spacing", "enforce_connectivity", "min_size_factor", "max_size_factor",
          "gray2rgb",
        ])
      let defaults = SLICSegmenter()
      let sigmas = try values("sigma", at: 2, counts: [1, 2]) ?? [defaults.sigma]
      for value in sigmas where value < 0 {
        throw error("sigma must not be negative, got \(Self.format(value))")
      }
      let spacing = try values("spacing", at: nil, counts: [2]) ?? [1, 1]
      for value in spacing where value <= 0 {
        throw error("spacing must be positive, got \(Self.format(value))")
      }
      // Not given: scikit-image's `None`, decided on the image (Lab for three channels).
      let labGiven = try values("convert2lab", at: 4, counts: [1]) != nil
      return SLICSegmenter(
        segmentCount: try integer("n_segments", at: 0, default: defaults.segmentCount, minimum: 1),
        compactness: try positive("compactness", at: 1, default: defaults.compactness),
        maxIterations: try integer(
          "max_num_iter", at: 3, default: defaults.maxIterations, minimum: 1),
        sigma: sigmas.count == 1 ? sigmas[0] : 0,
        convertToLab: labGiven ? try flag("convert2lab", at: 4, default: false) : nil,
        greyAsRGB: try flag("gray2rgb", at: nil, default: true),
        enforceConnectivity: try flag("enforce_connectivity", at: nil, default: true),
        minSizeFactor: try nonNegative("min_size_factor", at: nil, default: 0.5),
        maxSizeFactor: try positive("max_size_factor", at: nil, default: 3),
        sigmaPerAxis: sigmas.count == 2 ? (sigmas[0], sigmas[1]) : nil,
        spacing: (spacing[0], spacing[1]),
        slicZero: try flag("slic_zero", at: nil, default: false),
        mask: mask)
    case .grid:
      try check(positional: ["n"], named: [])
      guard !parameters.isEmpty || option("n") != nil else {
        throw error("grid needs n, the cells per side (grid:7)")
      }
      return GridSegmenter(cellsPerSide: try integer("n", at: 0, default: 1, minimum: 1))
    case .felzenszwalb:
      try check(positional: ["scale", "sigma", "min_size"], named: ["gray2rgb"])
      let defaults = FelzenszwalbSegmenter()
      return FelzenszwalbSegmenter(
        scale: try nonNegative("scale", at: 0, default: defaults.scale),
        sigma: try nonNegative("sigma", at: 1, default: defaults.sigma),
        minSize: try integer("min_size", at: 2, default: defaults.minSize, minimum: 0),
        greyAsRGB: try flag("gray2rgb", at: nil, default: true))
    case .quickshift:
      try check(
        positional: ["kernel_size", "max_dist", "ratio"],
        named: ["sigma", "convert2lab", "gray2rgb"])
      let defaults = QuickshiftSegmenter()
      let kernelSize = try values("kernel_size", at: 0, counts: [1])?[0] ?? defaults.kernelSize
      guard kernelSize >= 1 else {
        throw error("kernel_size must be at least 1, got \(Self.format(kernelSize))")
      }
      return QuickshiftSegmenter(
        kernelSize: kernelSize,
        maxDistance: try nonNegative("max_dist", at: 1, default: defaults.maxDistance),
        ratio: try nonNegative("ratio", at: 2, default: defaults.ratio),
        sigma: try nonNegative("sigma", at: nil, default: defaults.sigma),
        convertToLab: try flag("convert2lab", at: nil, default: true),
        greyAsRGB: try flag("gray2rgb", at: nil, default: true))
    }
  }

  private func error(_ reason: String) -> SegmenterSpecError {
    SegmenterSpecError(spec: description, reason: reason)
  }

  private func option(_ name: String) -> Option? {
    options.first { $0.name == name }
  }

  /// Refuses too many positional parameters and unknown or doubly given names.
  private func check(positional names: [String], named: [String]) throws(SegmenterSpecError) {
    if parameters.count > names.count {
      let maximum = names.count
      throw error(
        "\(kind.rawValue) takes at most \(maximum) parameter\(maximum == 1 ? "" : "s") "
          + "(\(([kind.rawValue] + names).joined(separator: ":"))), got \(parameters.count)")
    }
    for option in options {
      if let index = names.firstIndex(of: option.name) {
        if index < parameters.count {
          throw error("\(option.name) is given both by position and by name")
        }
      } else if !named.contains(option.name) {
        throw error(
          "\(kind.rawValue) has no parameter '\(option.name)'; use \((names + named).joined(separator: ", "))"
        )
      }
    }
  }

  /// A parameter's values: by name, else at position `index`, else `nil`.
  private func values(_ name: String, at index: Int?, counts: [Int])
    throws(SegmenterSpecError) -> [Double]?
  {
    if let option = option(name) {
      guard counts.contains(option.values.count) else {
        let expected = counts.map(String.init).joined(separator: " or ")
        throw error(
          "\(name) takes \(expected) value\(counts == [1] ? "" : "s"), got \(option.values.count)")
      }
      return option.values
    }
    if let index, index < parameters.count { return [parameters[index]] }
    return nil
  }

  private func integer(_ name: String, at index: Int?, default value: Int, minimum: Int)
    throws(SegmenterSpecError) -> Int
  {
    guard let given = try values(name, at: index, counts: [1])?[0] else { return value }
    guard given == given.rounded(), abs(given) < 1e15 else {
      throw error("\(name) must be an integer, got \(Self.format(given))")
    }
    guard Int(given) >= minimum else {
      throw error("\(name) must be at least \(minimum), got \(Self.format(given))")
    }
    return Int(given)
  }

  private func positive(_ name: String, at index: Int?, default value: Double)
    throws(SegmenterSpecError) -> Double
  {
    guard let given = try values(name, at: index, counts: [1])?[0] else { return value }
    guard given > 0 else { throw error("\(name) must be positive, got \(Self.format(given))") }
    return given
  }

  private func nonNegative(_ name: String, at index: Int?, default value: Double)
    throws(SegmenterSpecError) -> Double
  {
    guard let given = try values(name, at: index, counts: [1])?[0] else { return value }
    guard given >= 0 else {
      throw error("\(name) must not be negative, got \(Self.format(given))")
    }
    return given
  }

  private func flag(_ name: String, at index: Int?, default value: Bool)
    throws(SegmenterSpecError) -> Bool
  {
    guard let given = try values(name, at: index, counts: [1])?[0] else { return value }
    switch given {
    case 0: return false
    case 1: return true
    default: throw error("\(name) must be 0 or 1, got \(Self.format(given))")
    }
  }
}

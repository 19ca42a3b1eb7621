extension Image {
  /// The mean of each channel over the image's pixels (each 0 for an image without pixels):
  /// the fill "the image's mean" of occlusion and of Integrated Gradients' mean baseline.
  public var channelMeans: [Double] {
    var sums = [Double](repeating: 0, count: channels)
    for (index, value) in pixels.enumerated() { sums[index % channels] += value }
    let count = Double(max(width * height, 1))
    return sums.map { $0 / count }
  }
}

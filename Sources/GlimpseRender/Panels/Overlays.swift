import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

/// Pixel-level pictures of explanations, at the image's own resolution (figures enlarge them
/// with nearest-neighbour sampling, so every pixel stays a crisp square).
public enum Overlays {
  /// The image as display grey levels: luma for colour images, 1 − v when `invert`.
  public static func displayGrey(_ image: Image, invert: Bool) -> [Double] {
    let grey = image.channels >= 3 ? image.converted(toChannels: 1) : image.converted(toChannels: 1)
    return grey.pixels.map { value in
      let v = min(max(value, 0), 1)
      return invert ? 1 - v : v
    }
  }

  /// The HSV overlay of the seed notebook: hue green where the weight supports the class and
  /// red where it speaks against it, saturation |w|, value the grey level lifted by 0.5·|w|.
  ///
  /// - Parameters:
  ///   - weights: one weight per pixel.
  ///   - scale: the |weight| shown at full saturation (larger weights are clipped), fixed across
  ///     images so that colours are comparable.
  /// - Returns: an RGB image.
  public static func hsv(_ image: Image, weights: [Double], scale: Double, invert: Bool) -> Image {
    precondition(weights.count == image.width * image.height, "one weight per pixel")
    let grey = displayGrey(image, invert: invert)
    var rgb = [Double](repeating: 0, count: grey.count * 3)
    for p in 0..<grey.count {
      let w = scale > 0 ? min(max(weights[p] / scale, -1), 1) : 0
      let (r, g, b) = hsvToRGB(
        hue: w >= 0 ? 1.0 / 3 : 0, saturation: abs(w), value: min(grey[p] + 0.5 * abs(w), 1))
      rgb[3 * p] = r
      rgb[3 * p + 1] = g
      rgb[3 * p + 2] = b
    }
    return Image(
      shape: ImageShape(height: image.height, width: image.width, channels: 3), pixels: rgb)
  }

  /// The evidence for a class: pixels with positive weight keep their grey level, the rest
  /// fade 80 % of the way to white.
  public static func mask(_ image: Image, weights: [Double], invert: Bool) -> Image {
    let grey = displayGrey(image, invert: invert)
    let pixels = zip(grey, weights).map { value, weight in
      weight > 0 ? value : value + (1 - value) * 0.8
    }
    return Image(
      shape: ImageShape(height: image.height, width: image.width, channels: 1), pixels: pixels)
  }

  /// HSV (all in [0, 1]) to RGB.
  static func hsvToRGB(hue: Double, saturation: Double, value: Double) -> (Double, Double, Double) {
    let h = (hue - hue.rounded(.down)) * 6
    let sector = Int(h) % 6
    let f = h - Double(Int(h))
    let p = value * (1 - saturation)
    let q = value * (1 - saturation * f)
    let t = value * (1 - saturation * (1 - f))
    switch sector {
    case 0: return (value, t, p)
    case 1: return (q, value, p)
    case 2: return (p, value, t)
    case 3: return (p, q, value)
    case 4: return (t, p, value)
    default: return (value, p, q)
    }
  }
}

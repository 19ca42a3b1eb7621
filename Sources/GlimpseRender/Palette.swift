/// An RGB colour with components in [0, 1].
public struct RGB: Sendable, Equatable {
  /// The red component, 0 (none) to 1 (full).
  public var red: Double
  /// The green component, 0 (none) to 1 (full).
  public var green: Double
  /// The blue component, 0 (none) to 1 (full).
  public var blue: Double

  /// A colour from its components.
  public init(_ red: Double, _ green: Double, _ blue: Double) {
    self.red = red
    self.green = green
    self.blue = blue
  }

  /// Linear interpolation between two colours, `t` in [0, 1].
  func mixed(with other: RGB, _ t: Double) -> RGB {
    RGB(
      red + (other.red - red) * t, green + (other.green - green) * t, blue + (other.blue - blue) * t
    )
  }
}

/// Colour scales shared by the figures, so the same value always has the same colour.
public enum Palette {
  /// A sequential white-to-blue scale for values in [0, 1] (stops of matplotlib's "Blues", the
  /// map the seed notebook's confusion matrix uses).
  public static func blues(_ value: Double) -> RGB {
    let stops = [
      RGB(0.969, 0.984, 1.000), RGB(0.776, 0.859, 0.937), RGB(0.420, 0.682, 0.839),
      RGB(0.129, 0.443, 0.710), RGB(0.031, 0.188, 0.420),
    ]
    let t = min(max(value.isNaN ? 0 : value, 0), 1) * Double(stops.count - 1)
    let index = min(Int(t), stops.count - 2)
    return stops[index].mixed(with: stops[index + 1], t - Double(index))
  }
}

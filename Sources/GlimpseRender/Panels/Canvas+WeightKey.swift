extension Canvas {
  /// The colour key of the explanation overlays (`Overlays`): red for weight against the
  /// class, grey at 0, green for weight for it, at `labels` (left, middle, right). Every figure
  /// that draws weight maps shares it, so one scale reads the same everywhere.
  func weightColorKey(x: Double, y: Double, width: Double, labels: [String]) {
    colorKey(
      x: x, y: y, width: width, height: 10,
      color: { t in
        let w = 2 * t - 1
        let (r, g, b) = Overlays.hsvToRGB(
          hue: w >= 0 ? 1.0 / 3 : 0, saturation: abs(w), value: min(0.5 + 0.5 * abs(w), 1))
        return RGB(r, g, b)
      },
      labels: labels)
  }
}

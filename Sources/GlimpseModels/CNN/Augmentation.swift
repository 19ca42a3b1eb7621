import GlimpseCore

extension FeatureMaps {
  /// Each image translated by its own whole-pixel offset, the uncovered border filled with 0.
  ///
  /// The augmentation of the default recipe: handwritten digits are centred by their centre of
  /// mass only to within a pixel or two, so a network that has seen each digit shifted by up
  /// to ±2 pixels generalises better from few examples (Simard, Steinkraus & Platt, "Best
  /// Practices for Convolutional Neural Networks Applied to Visual Document Analysis", ICDAR
  /// 2003, §2, on distorted copies of the training set). Zero is the background of digit images;
  /// for photographs it is black.
  ///
  /// - Parameter offsets: `(dy, dx)` per image: the value at (y, x) moves to (y + dy, x + dx).
  public func shifted(by offsets: [(dy: Int, dx: Int)]) -> FeatureMaps {
    let s = shape
    precondition(
      offsets.count == s.count, "offsets.count (\(offsets.count)) != images (\(s.count))")
    var result = FeatureMaps(shape: s)
    storage.withBase { source in
      result.storage.withMutableBase { target in
        for c in 0..<s.channels {
          for (n, offset) in offsets.enumerated() {
            let from = source + (c * s.count + n) * s.planeSize
            let to = target + (c * s.count + n) * s.planeSize
            let low = max(0, offset.dx)
            let high = min(s.width, s.width + offset.dx)
            let top = max(0, offset.dy)
            let bottom = min(s.height, s.height + offset.dy)
            guard low < high, top < bottom else { continue }
            for y in top..<bottom {
              (to + y * s.width + low).update(
                from: from + (y - offset.dy) * s.width + (low - offset.dx), count: high - low)
            }
          }
        }
      }
    }
    return result
  }
}

/// `count` offsets, each coordinate uniform in `-maxShift...maxShift`, drawn in order.
func randomShifts(count: Int, maxShift: Int, using rng: inout some RandomNumberGenerator)
  -> [(dy: Int, dx: Int)]
{
  let span = UInt64(2 * maxShift + 1)
  return (0..<count).map { _ in
    (Int(rng.next(upperBound: span)) - maxShift, Int(rng.next(upperBound: span)) - maxShift)
  }
}

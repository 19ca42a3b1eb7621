import GlimpseCore

/// How training images are varied, afresh every epoch, before they reach the network.
///
/// Both geometric recipes are translations with zero fill: a random crop of the image padded
/// with `p` zeros on every side (torchvision's `RandomCrop(size, padding=p)`, top-left corner
/// uniform in `0…2p`) moves the image by `p − corner`, uniform in `−p…p`, which is exactly a
/// shift by up to `p` pixels. They differ in their range and in the mirror image:
///
/// - `.shift`, the digit recipe: ±`maxShift` pixels (2 for 28×28 digits). Digits are never
///   mirrored (a mirrored 2 is not a 2).
/// - `.cropFlip`, the recipe for photographs and scans larger than 32×32: padding of
///   `paddingFraction` of each side (1/8 by default, the 4 pixels of the 32-pixel CIFAR recipe
///   of He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, §4.2, scaled to
///   the image: 28 pixels at 224), then a horizontal flip with probability ½.
///
/// Draws, per image and in batch order, from the epoch's augmentation stream: the vertical
/// offset, the horizontal offset (each `next(upperBound: 2p + 1) − p`), then for `.cropFlip`
/// the flip (`next(upperBound: 2) == 1`). `.shift` draws exactly what the digit recipe always
/// drew, so its models are unchanged bit for bit.
public enum Augmentation: Sendable, Codable, Equatable {
  /// The images as they are.
  case none
  /// Each image moved by whole pixels, each coordinate uniform in `−maxShift…maxShift`.
  case shift(maxShift: Int)
  /// A random crop of the image padded by `round(paddingFraction · side)` zeros on each side
  /// (height and width separately, at least 1 pixel unless the fraction is 0), then a
  /// horizontal flip with probability ½.
  case cropFlip(paddingFraction: Double)

  /// The names the command line uses.
  public enum Kind: String, Sendable, CaseIterable {
    case none
    case shift
    case cropFlip = "crop-flip"
  }

  /// The digit recipe's shifts: ±2 pixels.
  public static let digitShift = Augmentation.shift(maxShift: 2)

  /// The large-image recipe's crop and flip: padding 1/8 of each side.
  public static let standardCropFlip = Augmentation.cropFlip(paddingFraction: 0.125)

  /// The kind of augmentation, without its parameters.
  public var kind: Kind {
    switch self {
    case .none: .none
    case .shift: .shift
    case .cropFlip: .cropFlip
    }
  }

  /// `kind` with Glimpse's parameters for it (`digitShift`, `standardCropFlip`).
  public init(_ kind: Kind) {
    switch kind {
    case .none: self = .none
    case .shift: self = .digitShift
    case .cropFlip: self = .standardCropFlip
    }
  }

  /// The largest offset in each direction for images of `shape`: `(0, 0)` for `.none`.
  public func maxOffsets(for shape: ImageShape) -> (dy: Int, dx: Int) {
    switch self {
    case .none:
      return (0, 0)
    case .shift(let maxShift):
      return (maxShift, maxShift)
    case .cropFlip(let fraction):
      func padding(_ side: Int) -> Int {
        fraction > 0 ? max(1, Int((fraction * Double(side)).rounded())) : 0
      }
      return (padding(shape.height), padding(shape.width))
    }
  }

  /// The placement of `count` images of `shape`, drawn in order (see the type's notes);
  /// `nil` when the images stay as they are.
  func placements(
    count: Int, shape: ImageShape, using rng: inout some RandomNumberGenerator
  ) -> [ImagePlacement]? {
    let (dy, dx) = maxOffsets(for: shape)
    switch self {
    case .none:
      return nil
    case .shift:
      guard dy > 0 || dx > 0 else { return nil }
      return randomShifts(count: count, maxShift: dy, using: &rng).map {
        ImagePlacement(dy: $0.dy, dx: $0.dx, flip: false)
      }
    case .cropFlip:
      let (spanY, spanX) = (UInt64(2 * dy + 1), UInt64(2 * dx + 1))
      return (0..<count).map { _ in
        let y = Int(rng.next(upperBound: spanY)) - dy
        let x = Int(rng.next(upperBound: spanX)) - dx
        let flip: UInt64 = rng.next(upperBound: 2)
        return ImagePlacement(dy: y, dx: x, flip: flip == 1)
      }
    }
  }

  /// Refuses negative shifts and padding fractions outside [0, ½].
  func validate() throws(ModelError) {
    switch self {
    case .none:
      return
    case .shift(let maxShift):
      guard maxShift >= 0 else {
        throw .invalidHyperparameter(
          name: "max shift", value: "\(maxShift)", expected: "an integer ≥ 0")
      }
    case .cropFlip(let fraction):
      guard fraction >= 0, fraction <= 0.5 else {
        throw .invalidHyperparameter(
          name: "crop padding fraction", value: "\(fraction)", expected: "a number in [0, 0.5]")
      }
    }
  }
}

/// Where one augmented image goes: moved by `(dy, dx)` (the value at (y, x) moves to
/// (y + dy, x + dx), zeros where nothing lands), then mirrored left to right when `flip`.
public struct ImagePlacement: Sendable, Equatable {
  /// Rows down.
  public var dy: Int
  /// Columns right.
  public var dx: Int
  /// Mirrored after the move: column x goes to column width − 1 − x.
  public var flip: Bool

  /// A placement of the given values.
  public init(dy: Int, dx: Int, flip: Bool) {
    self.dy = dy
    self.dx = dx
    self.flip = flip
  }
}

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
    placed(offsets.map { ImagePlacement(dy: $0.dy, dx: $0.dx, flip: false) })
  }

  /// Each image moved by its placement's offset (zero fill), then mirrored left to right
  /// where its placement says so: the value at (y, x) lands at (y + dy, x + dx), or at
  /// (y + dy, width − 1 − (x + dx)) when flipped. A random crop with zero padding followed by
  /// torchvision's `RandomHorizontalFlip`, in that order.
  public func placed(_ placements: [ImagePlacement]) -> FeatureMaps {
    let s = shape
    precondition(
      placements.count == s.count, "placements.count (\(placements.count)) != images (\(s.count))")
    var result = FeatureMaps(shape: s)
    storage.withBase { source in
      result.storage.withMutableBase { target in
        for c in 0..<s.channels {
          for (n, p) in placements.enumerated() {
            let from = source + (c * s.count + n) * s.planeSize
            let to = target + (c * s.count + n) * s.planeSize
            // Target columns low..<high and rows top..<bottom receive source pixels.
            let low = max(0, p.dx)
            let high = min(s.width, s.width + p.dx)
            let top = max(0, p.dy)
            let bottom = min(s.height, s.height + p.dy)
            guard low < high, top < bottom else { continue }
            for y in top..<bottom {
              let row = from + (y - p.dy) * s.width
              let out = to + y * s.width
              if p.flip {
                // Moved column x lands at width − 1 − x.
                for x in low..<high { out[s.width - 1 - x] = row[x - p.dx] }
              } else {
                (out + low).update(from: row + (low - p.dx), count: high - low)
              }
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

import GlimpseCore
import Testing

@testable import GlimpseModels

@Suite("CNN training: augmentation")
struct CNNTrainingAugmentationTests {
  /// Two images of `channels` × `height` × `width`, every value distinct: value
  /// `1 + ((c · 2 + n) · height + y) · width + x`, so where a value lands says where it came from.
  static func numbered(channels: Int, height: Int, width: Int) -> FeatureMaps<Float> {
    let shape = MapShape(channels: channels, count: 2, height: height, width: width)
    return FeatureMaps(shape: shape, storage: (0..<shape.valueCount).map { Float($0 + 1) })
  }

  @Test("a placement moves a known pixel where expected: shift, then flip")
  func placementMovesAPixel() {
    let (height, width) = (5, 7)
    var maps = FeatureMaps<Float>(
      shape: MapShape(channels: 2, count: 2, height: height, width: width))
    // One bright pixel per image and channel at (1, 2).
    for c in 0..<2 {
      for n in 0..<2 { maps[channel: c, image: n, y: 1, x: 2] = Float(10 * c + n + 1) }
    }
    let placed = maps.placed([
      ImagePlacement(dy: 2, dx: -1, flip: false), ImagePlacement(dy: 2, dx: -1, flip: true),
    ])
    for c in 0..<2 {
      // Image 0: (1, 2) + (2, −1) = (3, 1). Image 1: then mirrored, column 7 − 1 − 1 = 5.
      #expect(placed[channel: c, image: 0, y: 3, x: 1] == Float(10 * c + 1))
      #expect(placed[channel: c, image: 1, y: 3, x: 5] == Float(10 * c + 2))
    }
    // Nothing else is lit.
    #expect(placed.storage.filter { $0 != 0 }.count == 4)
  }

  /// torchvision's `RandomCrop(size, padding=p)` with corner (i, j): pad p zeros on every side,
  /// then take rows i..<i+H and columns j..<j+W. Written out directly as the reference.
  @Test(
    "a placement by (p − i, p − j) is torchvision's crop at corner (i, j) of the image padded by p")
  func placementIsAPaddedCrop() {
    let (height, width, p) = (6, 5, 2)
    let maps = Self.numbered(channels: 3, height: height, width: width)
    for (i, j) in [(0, 0), (0, 4), (4, 1), (2, 2), (3, 0)] {
      let placed = maps.placed(
        Array(repeating: ImagePlacement(dy: p - i, dx: p - j, flip: false), count: 2))
      for c in 0..<3 {
        for n in 0..<2 {
          for y in 0..<height {
            for x in 0..<width {
              // Padded image value at (i + y, j + x): original (i + y − p, j + x − p) or 0.
              let (sy, sx) = (i + y - p, j + x - p)
              let expected: Float =
                sy >= 0 && sy < height && sx >= 0 && sx < width
                ? maps[channel: c, image: n, y: sy, x: sx] : 0
              #expect(placed[channel: c, image: n, y: y, x: x] == expected)
            }
          }
        }
      }
    }
  }

  @Test("a flip without a move mirrors every row; flipping twice gives the image back")
  func flipMirrors() {
    let maps = Self.numbered(channels: 1, height: 3, width: 4)
    let flip = Array(repeating: ImagePlacement(dy: 0, dx: 0, flip: true), count: 2)
    let once = maps.placed(flip)
    for n in 0..<2 {
      for y in 0..<3 {
        for x in 0..<4 {
          #expect(
            once[channel: 0, image: n, y: y, x: x] == maps[channel: 0, image: n, y: y, x: 3 - x])
        }
      }
    }
    #expect(once.placed(flip) == maps)
  }

  @Test("shifted(by:) is a placement without flip, and moves beyond the image leave zeros")
  func shiftIsAPlacement() {
    let maps = Self.numbered(channels: 2, height: 4, width: 4)
    let offsets = [(dy: 1, dx: -2), (dy: -3, dx: 0)]
    #expect(
      maps.shifted(by: offsets)
        == maps.placed(offsets.map { ImagePlacement(dy: $0.dy, dx: $0.dx, flip: false) }))
    let gone = maps.placed(Array(repeating: ImagePlacement(dy: 0, dx: 4, flip: true), count: 2))
    #expect(gone.storage.allSatisfy { $0 == 0 })
  }

  @Test("crop padding is 1/8 of each side: 4 at 32, 28 at 224, per axis for other shapes")
  func cropPaddingScalesWithTheImage() {
    let crop = Augmentation.standardCropFlip
    #expect(crop.maxOffsets(for: ImageShape(height: 32, width: 32, channels: 3)) == (4, 4))
    #expect(crop.maxOffsets(for: ImageShape(height: 224, width: 224, channels: 1)) == (28, 28))
    #expect(crop.maxOffsets(for: ImageShape(height: 128, width: 64, channels: 3)) == (16, 8))
    #expect(crop.maxOffsets(for: ImageShape(height: 4, width: 4, channels: 1)) == (1, 1))
    #expect(
      Augmentation.digitShift.maxOffsets(for: ImageShape(height: 224, width: 224, channels: 1)) == (
        2, 2
      ))
    #expect(
      Augmentation.none.maxOffsets(for: ImageShape(height: 28, width: 28, channels: 1)) == (0, 0))
  }

  @Test(
    "crop-flip draws are deterministic per seed, within the padding, cover it, and flip about half the images"
  )
  func cropFlipDraws() throws {
    let shape = ImageShape(height: 32, width: 32, channels: 3)
    func draw(_ seed: UInt64) throws -> [ImagePlacement] {
      var rng = SeededGenerator(seed: seed).stream(1_000_001)
      return try #require(
        Augmentation.standardCropFlip.placements(count: 4000, shape: shape, using: &rng))
    }
    let a = try draw(5)
    #expect(try draw(5) == a)
    #expect(try draw(6) != a)
    #expect(a.allSatisfy { abs($0.dy) <= 4 && abs($0.dx) <= 4 })
    #expect(Set(a.map(\.dy)) == Set(-4...4))
    #expect(Set(a.map(\.dx)) == Set(-4...4))
    // Binomial(4000, ½): mean 2000, standard deviation ≈ 32; 5 standard deviations.
    let flips = a.filter(\.flip).count
    #expect(abs(flips - 2000) < 160)
  }

  @Test("the digit shift draws exactly the shifts the standard recipe always drew, and never flips")
  func shiftDrawsAsBefore() throws {
    let shape = ImageShape(height: 28, width: 28, channels: 1)
    var a = SeededGenerator(seed: 9)
    var b = SeededGenerator(seed: 9)
    let placements = try #require(
      Augmentation.digitShift.placements(count: 50, shape: shape, using: &a))
    let shifts = randomShifts(count: 50, maxShift: 2, using: &b)
    #expect(placements.map(\.dy) == shifts.map(\.dy))
    #expect(placements.map(\.dx) == shifts.map(\.dx))
    #expect(placements.allSatisfy { !$0.flip })
    #expect(a == b)  // the same number of draws: the stream is left where it was
    var c = SeededGenerator(seed: 9)
    #expect(Augmentation.none.placements(count: 50, shape: shape, using: &c) == nil)
    #expect(Augmentation.shift(maxShift: 0).placements(count: 50, shape: shape, using: &c) == nil)
    #expect(c == SeededGenerator(seed: 9))  // and no augmentation draws nothing
  }

  @Test("training with crop-flip is deterministic per seed and differs from training without it")
  func cropFlipTrainingIsDeterministic() throws {
    let train = Bars.dataset(count: 24, seed: 31)
    var h = Bars.recipe(.standard, epochs: 2)
    h.augmentation = .cropFlip(paddingFraction: 0.125)
    func fit(_ h: CNNClassifier.Hyperparameters) throws -> CNNClassifier {
      var rng = SeededGenerator(seed: 32)
      return try CNNClassifier.fit(train, hyperparameters: h, using: &rng)
    }
    let a = try fit(h)
    let b = try fit(h)
    #expect(a.network == b.network && a.history == b.history)
    h.augmentation = .none
    #expect(try fit(h).network != a.network)
  }

  @Test("padding fractions outside [0, ½] and negative shifts are refused")
  func invalidAugmentationsAreRefused() {
    var h = CNNClassifier.Hyperparameters.largeImages
    h.augmentation = .cropFlip(paddingFraction: 0.75)
    #expect(throws: ModelError.self) { try h.validate() }
    h.augmentation = .shift(maxShift: -1)
    #expect(throws: ModelError.self) { try h.validate() }
  }
}

import GlimpseAudit
import GlimpseCore
import GlimpseData
import GlimpseTestSupport
import Testing

// swift-format-ignore: AlwaysUseLowerCamelCase
/// Fixtures/near_duplicates.json: constructed copies of 40 of the first 300 sample digits and a
/// numpy implementation's distances.
struct NearDuplicateCase: Decodable {
  var sources: [Int]
  var kinds: [String]
  var constructed: [[UInt8]]
  var pairs: [[Double]]
  var closest_natural: [Double]
}

/// The first 300 sample digits and the 40 constructed copies, as audit rows.
enum ConstructedDigits {
  static let reference: NearDuplicateCase = {
    do {
      return try loadJSON(
        NearDuplicateCase.self,
        from: TestPaths.fixtures("GlimpseAuditTests") + "/near_duplicates.json")
    } catch {
      preconditionFailure("cannot read near_duplicates.json: \(error)")
    }
  }()

  static let images: AuditImages = {
    var options = ReadOptions()
    options.labelsPath = TestPaths.samples + "/mnist/mnist-lbls-mini.csv.bz2"
    let digits: Dataset
    do {
      digits = try TableDatasetReader.read(
        TestPaths.samples + "/mnist/mnist-imgs-mini.csv.bz2", options: options)
    } catch {
      preconditionFailure("cannot read the sample digits: \(error)")
    }
    let natural = AuditImages(data: digits.subset(0..<300))
    let shape = ImageShape(height: 28, width: 28)
    return AuditImages(
      shapes: natural.shapes + Array(repeating: shape, count: reference.constructed.count),
      samples: natural.samples + reference.constructed,
      labels: natural.labels + reference.sources.map { natural.labels[$0] },
      sources: natural.sources + reference.kinds, dataCount: 300)
  }()
}

@Suite struct DuplicateTests {
  @Test("the shift-minimised descriptor distance equals the numpy reference to 1e-9")
  func distanceMatchesNumpy() {
    let images = ConstructedDigits.images
    for pair in ConstructedDigits.reference.pairs {
      let (i, j) = (Int(pair[0]), Int(pair[1]))
      let a = ImageDescriptor(shape: images.shapes[i], samples: images.samples[i])
      let b = ImageDescriptor(shape: images.shapes[j], samples: images.samples[j])
      #expect(abs(a.distance(to: b) - pair[2]) <= 1e-9, "pair \(i), \(j)")
      #expect(abs(b.distance(to: a) - pair[2]) <= 1e-9, "pair \(j), \(i)")
    }
  }

  @Test(
    "on 300 digits plus 40 constructed copies the default threshold finds at least 90 % of the copies and at most 5 natural pairs"
  )
  func thresholdOnDigits() {
    let images = ConstructedDigits.images
    let pairs = NearDuplicateFinder().pairs(images)
    let reference = ConstructedDigits.reference
    let constructed = Set(reference.sources.enumerated().map { [min($1, 300 + $0), 300 + $0] })
    let found = pairs.filter { constructed.contains([$0.first, $0.second]) }
    let natural = pairs.filter { $0.second < 300 }
    #expect(Double(found.count) >= 0.9 * Double(constructed.count))
    #expect(natural.count <= 5)
    // Measured: every copy found (the farthest at 0.0106), no natural pair (the closest 0.0159).
    #expect(found.count == constructed.count)
    #expect(natural.isEmpty)
    #expect(pairs.allSatisfy { $0.distance <= 0.015 })
  }

  @Test(
    "identical decoded pixels group across DATA and the test set; conflicting labels are flagged")
  func exactGroupsAndLeaks() {
    let shape = ImageShape(height: 2, width: 2)
    let x: [UInt8] = [0, 10, 20, 30]
    let y: [UInt8] = [0, 10, 20, 31]
    let images = AuditImages(
      shapes: [shape, shape, shape, shape, ImageShape(height: 1, width: 4)],
      samples: [x, y, x, x, x], labels: ["a", "a", "a", "b", "a"],
      sources: ["0", "1", "2", "t0", "t1"], dataCount: 3)
    let groups = images.exactDuplicates()
    #expect(groups == [ExactDuplicateGroup(rows: [0, 2, 3], labelConflict: true)])
    #expect(images.leaks(exact: groups, near: []) == [[0, 3], [2, 3]])
  }

  @Test(
    "a shifted, brightened colour image is a near-duplicate of its original; a different crop is not"
  )
  func colourCopies() throws {
    let shape = ImageShape(height: 64, width: 64, channels: 3)
    var generator = SeededGenerator(seed: 4)
    // A smooth random field, so that a shift changes it only a little.
    let field = (0..<(16 * 16 * 3)).map { _ in generator.nextUnitDouble() }
    func sample(_ x: Int, _ y: Int, _ c: Int) -> Double {
      field[((min(y / 4, 15)) * 16 + min(x / 4, 15)) * 3 + c]
    }
    let original = (0..<(64 * 64 * 3)).map { index -> UInt8 in
      let pixel = index / 3
      return UInt8(sample(pixel % 64, pixel / 64, index % 3) * 200)
    }
    let shifted = (0..<(64 * 64 * 3)).map { index -> UInt8 in
      let pixel = index / 3
      return UInt8(sample(max(pixel % 64 - 2, 0), pixel / 64, index % 3) * 200 + 30)
    }
    let other = (0..<(64 * 64 * 3)).map { _ in UInt8(generator.nextUnitDouble() * 255) }
    let images = AuditImages(
      shapes: [shape, shape, shape], samples: [original, shifted, other],
      labels: ["a", "a", "a"], sources: ["o", "s", "x"], dataCount: 3)
    let pairs = NearDuplicateFinder().pairs(images)
    #expect(pairs.map { [$0.first, $0.second] } == [[0, 1]])
  }
}

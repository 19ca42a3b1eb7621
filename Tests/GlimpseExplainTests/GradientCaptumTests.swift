import Foundation
import GlimpseCore
import GlimpseModels
import GlimpseTestSupport
import Testing

@testable import GlimpseExplain

/// The fixture networks of `Fixtures/scripts/make_gradient_fixtures.py`: Glimpse architectures
/// whose every parameter and running statistic is a 32-bit hash of (slot, index), computed here
/// as the script computes it, so the weights need not be stored.
enum GradientFixtureNetwork {
  /// murmur3's finaliser of a linear mix of (salt, index), in [0, 1).
  static func unit(_ salt: Int, _ index: Int) -> Double {
    var x = UInt32(truncatingIfNeeded: index) &* 0x9E37_79B9
    x = x &+ UInt32(truncatingIfNeeded: salt) &* 0x7FEB_352D &+ 0x1656_67B1
    x ^= x >> 16
    x = x &* 0x85EB_CA6B
    x ^= x >> 13
    x = x &* 0xC2B2_AE35
    x ^= x >> 16
    return Double(x) / 4_294_967_296
  }

  static func uniform(_ salt: Int, _ count: Int, _ low: Double, _ high: Double) -> [Float] {
    (0..<count).map { Float(low + (high - low) * unit(salt, $0)) }
  }

  /// The layers with the script's values, slots numbered in `Network.parameters` order.
  static func filled(_ layers: [NetworkLayer<Float>], slot: inout Int) -> [NetworkLayer<Float>] {
    layers.map { layer in
      switch layer {
      case .conv(let c):
        let bound = (6.0 / Double(c.patchSize)).squareRoot()
        let weights = uniform(slot, c.weights.count, -bound, bound)
        slot += 1
        var bias: [Float]?
        if c.hasBias {
          bias = uniform(slot, c.filters, -0.1, 0.1)
          slot += 1
        }
        return .conv(
          Conv2D(
            inputChannels: c.inputChannels, filters: c.filters, kernelHeight: c.kernelHeight,
            kernelWidth: c.kernelWidth, stride: c.stride, padding: c.padding, weights: weights,
            bias: bias))
      case .dense(let d):
        let bound = (6.0 / Double(d.inputs)).squareRoot()
        let weights = uniform(slot, d.weights.count, -bound, bound)
        let bias = uniform(slot + 1, d.outputs, -0.1, 0.1)
        slot += 2
        return .dense(Dense(inputs: d.inputs, outputs: d.outputs, weights: weights, bias: bias))
      case .batchNorm(let n):
        let s = slot
        slot += 2
        return .batchNorm(
          BatchNorm2D(
            channels: n.channels, scale: uniform(s, n.channels, 0.75, 1.25),
            shift: uniform(s + 1, n.channels, -0.1, 0.1),
            runningMean: uniform(s + 1000, n.channels, -0.1, 0.1),
            runningVariance: uniform(s + 2000, n.channels, 0.5, 1.5)))
      case .residual(let block):
        let main = filled(block.main, slot: &slot)
        let shortcut = filled(block.shortcut, slot: &slot)
        return .residual(ResidualBlock(main: main, shortcut: shortcut))
      default:
        return layer
      }
    }
  }

  /// A 3-class model of `architecture` for `shape` with the script's weights.
  static func model(_ architecture: Architecture, _ shape: ImageShape) throws -> CNNClassifier {
    var rng = SeededGenerator(seed: 0)
    let drawn: Network<Float> = try #require(
      architecture.makeNetwork(input: shape, classes: 3, initializer: .heUniform, using: &rng))
    var slot = 0
    let network = Network(inputShape: shape, layers: filled(drawn.layers, slot: &slot))
    return CNNClassifier(
      hyperparameters: .recipe(for: architecture), classNames: ["a", "b", "c"],
      network: network, history: [])
  }

  /// The script's grey image: hash noise below 64 with a bright rectangle.
  static func greyCodes(_ size: Int) -> [Int] {
    (0..<(size * size)).map { p in
      let (y, x) = (p / size, p % size)
      let k = (Int(unit(7777, p) * 4_294_967_296) >> 24) & 0x3F
      return k + ((4..<12).contains(y) && (5..<13).contains(x) ? 150 : 0)
    }
  }

  /// The script's RGB image: hash noise below 128 per channel with a red disc.
  static func rgbCodes(_ size: Int) -> [Int] {
    (0..<(size * size * 3)).map { i in
      let (p, c) = (i / 3, i % 3)
      let (y, x) = (p / size, p % size)
      let k = (Int(unit(8888 + c, p) * 4_294_967_296) >> 24) & 0x7F
      let inDisc = (x - 20) * (x - 20) + (y - 14) * (y - 14) < 100
      return k + (c == 0 && inDisc ? 120 : 0)
    }
  }
}

/// captum's outputs (`Fixtures/gradients.json`, maps in `gradients.f32`).
struct CaptumGradientFixture: Decodable {
  struct Slice: Decodable {
    var offset: Int
    var count: Int
  }
  struct IGRun: Decodable {
    var steps: Int
    var method: String
    var baseline: Double
    var map: Slice
    var delta: Double
    var total: Double
  }
  struct LabelCase: Decodable {
    var label: Int
    var gradcamLayer: Slice
    var gradcamLayerShape: [Int]
    // The script's key names.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    var gradcam_nearest: Slice
    // swift-format-ignore: AlwaysUseLowerCamelCase
    var gradcam_bilinear: Slice
    var saliency: Slice
    var ig: [IGRun]
  }
  struct Case: Decodable {
    var name: String
    var architecture: String
    var size: Int
    var channels: Int
    var codes: [Int]
    var labels: [Int]
    var logits: [Double]
    var labelCases: [LabelCase]
  }
  var cases: [Case]

  static func load() throws -> (CaptumGradientFixture, [Float]) {
    let folder = TestPaths.fixtures("GlimpseExplainTests")
    let fixture = try loadJSON(CaptumGradientFixture.self, from: folder + "/gradients.json")
    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/gradients.f32"))
    let values = data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { i in
        Float(
          bitPattern: UInt32(
            littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
      }
    }
    return (fixture, values)
  }
}

/// Grad-CAM, Integrated Gradients and saliency against captum 0.9 (PyTorch, float64) on the
/// same networks and weights: Glimpse's `.standard` on a 16×16 grey image and `.resnet` (basic
/// blocks with projection shortcuts, batch normalisation at running statistics) on a 40×40 RGB
/// image. The bar is issue #19's: equal to 1e-5 relative, in the norm max|Δ| / max|captum|.
@Suite("Gradient maps against captum")
struct GradientCaptumTests {
  static let loaded = try? CaptumGradientFixture.load()

  /// max|Δ| / max|reference|.
  static func relativeError(_ values: [Double], _ reference: [Float]) -> Double {
    guard values.count == reference.count else { return .infinity }
    let scale = reference.reduce(0) { max($0, abs(Double($1))) }
    return maxAbsoluteDifference(values, reference.map(Double.init)) / max(scale, 1e-300)
  }

  static func setUp(_ c: CaptumGradientFixture.Case) throws -> (CNNClassifier, Image) {
    let architecture = try #require(Architecture(rawValue: c.architecture))
    let shape = ImageShape(height: c.size, width: c.size, channels: c.channels)
    let codes =
      c.channels == 1
      ? GradientFixtureNetwork.greyCodes(c.size) : GradientFixtureNetwork.rgbCodes(c.size)
    // The image formula here is the script's (else nothing below could agree).
    #expect(codes == c.codes, "\(c.name)")
    let image = Image(shape: shape, eightBitSamples: codes.map { UInt8($0) })
    return (try GradientFixtureNetwork.model(architecture, shape), image)
  }

  @Test("the fixture networks' logits equal PyTorch's to 1e-5 relative (weights rebuilt alike)")
  func logits() throws {
    let (fixture, _) = try #require(Self.loaded)
    #expect(fixture.cases.count == 2)
    for c in fixture.cases {
      let (model, image) = try Self.setUp(c)
      let batch = GradientInput.batch(count: 1, shape: image.shape) { _, i in image.pixels[i] }
      let logits = model.network.logits(batch).storage
      #expect(Self.relativeError(logits.map(Double.init), c.logits.map(Float.init)) < 1e-5)
    }
  }

  @Test("Grad-CAM (layer map, nearest and bilinear upsampling) equals captum's LayerGradCam")
  func gradCAM() throws {
    let (fixture, blob) = try #require(Self.loaded)
    for c in fixture.cases {
      let (model, image) = try Self.setUp(c)
      for entry in c.labelCases {
        let reference = { (s: CaptumGradientFixture.Slice) in
          Array(blob[s.offset..<(s.offset + s.count)])
        }
        let layer = try GradCAMExplainer().layerMaps(image, labels: [entry.label], model: model)
        #expect([layer[0].height, layer[0].width] == entry.gradcamLayerShape, "\(c.name)")
        let layerError = Self.relativeError(layer[0].values, reference(entry.gradcamLayer))
        #expect(layerError < 1e-5, "\(c.name) label \(entry.label): \(layerError)")
        for (mode, slice) in [
          (GradCAMExplainer.Upsampling.nearest, entry.gradcam_nearest),
          (.bilinear, entry.gradcam_bilinear),
        ] {
          let maps = try GradCAMExplainer(upsampling: mode).explain(
            image, labels: [entry.label], model: model)
          #expect(maps[0].width == c.size && maps[0].height == c.size)
          let error = Self.relativeError(maps[0].values, reference(slice))
          #expect(error < 1e-5, "\(c.name) label \(entry.label) \(mode): \(error)")
        }
      }
    }
  }

  @Test("saliency |∂s/∂x| (channels summed) equals captum's Saliency(abs=True)")
  func saliency() throws {
    let (fixture, blob) = try #require(Self.loaded)
    for c in fixture.cases {
      let (model, image) = try Self.setUp(c)
      let maps = try SaliencyExplainer().explain(image, labels: c.labels, model: model)
      for (map, entry) in zip(maps, c.labelCases) {
        let s = entry.saliency
        let error = Self.relativeError(map.values, Array(blob[s.offset..<(s.offset + s.count)]))
        #expect(error < 1e-5, "\(c.name) label \(entry.label): \(error)")
      }
    }
  }

  @Test("Integrated Gradients (Gauss–Legendre 50, right and middle sums) and delta equal captum's")
  func integratedGradients() throws {
    let (fixture, blob) = try #require(Self.loaded)
    for c in fixture.cases {
      let (model, image) = try Self.setUp(c)
      for entry in c.labelCases {
        for run in entry.ig {
          let explainer = IntegratedGradientsExplainer(
            steps: run.steps, baseline: run.baseline == 0 ? .zero : .constant(run.baseline),
            rule: try #require(IntegrationRule(rawValue: run.method)))
          let result = try explainer.attributions(image, labels: [entry.label], model: model)
          let reference = Array(blob[run.map.offset..<(run.map.offset + run.map.count)])
          let error = Self.relativeError(result.maps[0].values, reference)
          #expect(error < 1e-5, "\(c.name) label \(entry.label) \(run.method): \(error)")
          // The delta is a difference of nearly equal numbers: compared on the scale of the
          // attributions' total.
          let deltaError = abs(result.convergenceDeltas[0] - run.delta) / abs(run.total)
          #expect(deltaError < 1e-5, "\(c.name) \(run.method) delta: \(deltaError)")
        }
      }
    }
  }
}

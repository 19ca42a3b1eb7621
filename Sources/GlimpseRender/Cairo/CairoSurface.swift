import CCairo
import GlimpseCore

/// An ARGB32 Cairo image surface that owns its pointer and destroys it when released.
final class CairoSurface {
  let pointer: OpaquePointer
  let width: Int
  let height: Int

  /// A blank (transparent) surface.
  init(width: Int, height: Int) throws(RenderError) {
    guard width > 0, height > 0, width < 32768, height < 32768 else {
      throw RenderError(
        "a picture of \(height)×\(width) pixels (H×W) is too large to draw (at most 32767 a side)")
    }
    // Cairo returns an error object rather than NULL on failure; the status check is what counts.
    guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
    else { throw RenderError("cairo_image_surface_create returned NULL") }
    if let error = RenderError(cairo_surface_status(surface)) {
      cairo_surface_destroy(surface)
      throw error
    }
    self.pointer = surface
    self.width = width
    self.height = height
  }

  /// A surface holding an image's pixels at one pixel per sample, opaque.
  ///
  /// Grey images are drawn grey, RGB as colour, alpha ignored; values are clamped to [0, 1].
  /// With `invert`, v becomes 1 − v (bright strokes on black shown as dark on white).
  convenience init(image: Image, invert: Bool) throws(RenderError) {
    try self.init(width: image.width, height: image.height)
    cairo_surface_flush(pointer)
    guard let data = cairo_image_surface_get_data(pointer) else {
      throw RenderError("image surface has no data")
    }
    let stride = Int(cairo_image_surface_get_stride(pointer))
    let channels = image.channels
    image.pixels.withUnsafeBufferPointer { samples in
      for y in 0..<image.height {
        // ARGB32 is native-endian 0xAARRGGBB: bytes B, G, R, A on little-endian machines.
        let row = (data + y * stride).withMemoryRebound(to: UInt32.self, capacity: image.width) {
          $0
        }
        for x in 0..<image.width {
          let base = (y * image.width + x) * channels
          let isColour = channels >= 3
          var r = samples[base]
          var g = isColour ? samples[base + 1] : r
          var b = isColour ? samples[base + 2] : r
          if invert { (r, g, b) = (1 - r, 1 - g, 1 - b) }
          row[x] = 0xFF00_0000 | byte(r) << 16 | byte(g) << 8 | byte(b)
        }
      }
    }
    cairo_surface_mark_dirty(pointer)
  }

  deinit { cairo_surface_destroy(pointer) }

  /// The surface encoded as PNG by Cairo.
  func pngData() throws(RenderError) -> [UInt8] {
    cairo_surface_flush(pointer)
    let sink = ByteSink()
    let unmanaged = Unmanaged.passRetained(sink)
    defer { unmanaged.release() }
    let status = cairo_surface_write_to_png_stream(
      pointer,
      { closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
        let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
        return CAIRO_STATUS_SUCCESS
      }, unmanaged.toOpaque())
    if let error = RenderError(status) { throw error }
    return sink.bytes
  }

  /// The pixel at (x, y) as (r, g, b, a) bytes, un-premultiplied (for tests and checks).
  func pixel(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
    cairo_surface_flush(pointer)
    guard let data = cairo_image_surface_get_data(pointer) else { return (0, 0, 0, 0) }
    let stride = Int(cairo_image_surface_get_stride(pointer))
    let value = (data + y * stride + x * 4).withMemoryRebound(to: UInt32.self, capacity: 1) {
      $0.pointee
    }
    let a = UInt8(value >> 24)
    func channel(_ shift: UInt32) -> UInt8 {
      let premultiplied = Int((value >> shift) & 0xFF)
      return a == 0 ? 0 : UInt8(min(255, premultiplied * 255 / Int(a)))
    }
    return (channel(16), channel(8), channel(0), a)
  }
}

private final class ByteSink {
  var bytes: [UInt8] = []
}

@inline(__always)
private func byte(_ value: Double) -> UInt32 {
  let clamped = value.isNaN ? 0 : min(max(value, 0), 1)
  return UInt32((clamped * 255).rounded())
}

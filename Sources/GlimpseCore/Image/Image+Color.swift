// Channel conversions used when images of mixed kinds are brought to one channel count.
//
// Grey from RGB uses ITU-R BT.601 luma (0.299, 0.587, 0.114), the weights of Pillow's "L" mode,
// which is what Keras' `load_img(color_mode="grayscale")` and torchvision's `Grayscale` give, so a
// folder read here matches what those loaders would feed a model. (scikit-image's `rgb2gray` uses
// BT.709 weights; the LIME pipeline applies that inside its classifier function, not on reading.)

extension Image {
  /// The image with `channels` channels: grey is replicated into RGB, RGB becomes BT.601 luma,
  /// and an alpha channel is dropped (the stored colour kept, as Pillow's `convert("RGB")` does).
  public func converted(toChannels target: Int) -> Image {
    precondition(target == 1 || target == 3, "target channels (\(target)) must be 1 or 3")
    let source = shape.channels
    if source == target { return self }
    let pixelCount = shape.pixelCount
    var result = [Double](repeating: 0, count: pixelCount * target)
    pixels.withUnsafeBufferPointer { input in
      result.withUnsafeMutableBufferPointer { output in
        for p in 0..<pixelCount {
          let base = p * source
          if source <= 2 {  // grey or grey + alpha
            let value = input[base]
            for c in 0..<target { output[p * target + c] = value }
          } else if target == 3 {  // RGBA → RGB
            for c in 0..<3 { output[p * 3 + c] = input[base + c] }
          } else {  // RGB(A) → grey
            output[p] = 0.299 * input[base] + 0.587 * input[base + 1] + 0.114 * input[base + 2]
          }
        }
      }
    }
    return Image(
      shape: ImageShape(height: shape.height, width: shape.width, channels: target),
      pixels: result)
  }
}

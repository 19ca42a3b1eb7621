import GlimpseCore
import GlimpseSegmentation

/// Reads `explain --mask`: an image whose non-zero pixels are the region of interest, the size
/// images are explained at (the model's input shape).
func readRegionOfInterest(_ path: String, shape: ImageShape?) throws -> RegionMask {
  let mask = RegionMask(image: try readImageFile(path))
  guard let shape else {
    throw CommandFailure(
      message: "\(path): --mask needs a model trained on images (no image shape)",
      status: ExitStatus.badInput)
  }
  guard mask.width == shape.width && mask.height == shape.height else {
    throw CommandFailure(
      message:
        "\(path): mask is \(mask.width)×\(mask.height), images are explained at \(shape.width)×\(shape.height) (W×H)",
      status: ExitStatus.badInput)
  }
  guard mask.insideCount > 0 else {
    throw CommandFailure(
      message: "\(path): mask has no non-zero pixel (nothing inside)", status: ExitStatus.badInput)
  }
  return mask
}

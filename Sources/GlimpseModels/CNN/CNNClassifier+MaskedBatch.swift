import GlimpseCore

extension CNNClassifier {
  /// Class probabilities of LIME's perturbed images, each image built straight into the
  /// network's Float32 input batch: no `[rows, pixels]` Double matrix of the whole batch (40 MB
  /// for 100 grey images of 224×224, allocated and faulted in afresh for every batch).
  ///
  /// Pixel p of row r is `base[p] + coefficients[r, groups[p]] · delta[p]`, computed in Double
  /// and rounded to Float as `FeatureMaps(images:)` rounds a materialised row, so the
  /// probabilities are the bits of `predictProbabilities(batch.materialized())`.
  public func predictProbabilities(_ batch: MaskedBatch) -> Matrix {
    precondition(
      batch.base.count == featureCount,
      "masked images have \(batch.base.count) values, the model \(featureCount)")
    let loss = SoftmaxCrossEntropy()
    let shape = imageShape
    return batched(
      rowCount: batch.rows, columns: classNames.count,
      input: { rows in Self.maskedImages(batch, rows: rows, shape: shape) },
      { images in loss.probabilities(inferenceNetwork.logits(images)) })
  }

  /// The images of `rows` of a masked batch, `[channels, count, height, width]`.
  static func maskedImages(_ batch: MaskedBatch, rows: Range<Int>, shape: ImageShape)
    -> FeatureMaps<Float>
  {
    let count = rows.count
    let maps = MapShape(
      channels: shape.channels, count: count, height: shape.height, width: shape.width)
    let (channels, plane, groupCount) = (shape.channels, shape.pixelCount, batch.groupCount)
    return batch.base.withBase { base in
      batch.delta.withBase { delta in
        batch.groups.withBase { groups in
          batch.coefficients.storage.withBase { coefficients in
            FeatureMaps(shape: maps) { target in
              for (n, row) in rows.enumerated() {
                let c = coefficients + row * groupCount
                for channel in 0..<channels {
                  let map = target + (channel * count + n) * plane
                  for pixel in 0..<plane {
                    let p = pixel * channels + channel
                    map[pixel] = Float(base[p] + c[Int(groups[p])] * delta[p])
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

import GlimpseCore

#if canImport(Glibc)
  import Glibc
#endif

/// The softmax of a batch of class scores and its cross-entropy with the true classes.
///
/// Mirrors PyTorch's `nn.CrossEntropyLoss()` (log-softmax inside, mean over the batch) and
/// Keras' `categorical_crossentropy` on a softmax output: the loss of a batch is
/// `(1/N) Σₙ [log Σₖ exp zₖₙ − z_{yₙ n}]` and its gradient with respect to the scores is
/// `(softmax(z) − onehot(y)) / N` (with class weights, their weighted means). Both are
/// computed from the scores shifted by their column maximum, so large scores do not overflow;
/// the loss is accumulated in `Double`.
///
/// Bishop, "Pattern Recognition and Machine Learning", 2006, §4.3.4, eq. (4.109) for the
/// gradient.
public struct SoftmaxCrossEntropy: Sendable, Equatable {
  /// The loss function (it has no parameters).
  public init() {}

  /// Class probabilities of each image.
  /// - Parameter logits: A flat batch `[classes, count, 1, 1]`.
  /// - Returns: `[classes, count, 1, 1]`; each image's probabilities sum to 1.
  public func probabilities<Scalar: GEMMScalar>(_ logits: FeatureMaps<Scalar>) -> FeatureMaps<
    Scalar
  > {
    let (classes, count) = flatSizes(logits.shape)
    var result = FeatureMaps<Scalar>(shape: logits.shape)
    logits.storage.withBase { z in
      result.storage.withMutableBase { p in
        for n in 0..<count {
          var top = -Double.infinity
          for k in 0..<classes { top = max(top, Double(z[k * count + n])) }
          var total = 0.0
          for k in 0..<classes { total += exp(Double(z[k * count + n]) - top) }
          for k in 0..<classes {
            p[k * count + n] = Scalar(exp(Double(z[k * count + n]) - top) / total)
          }
        }
      }
    }
    return result
  }

  /// The batch's mean loss, its gradient with respect to the scores, and how many images the
  /// scores classify correctly (argmax, first class on ties).
  ///
  /// With class weights `w`, PyTorch's `CrossEntropyLoss(weight=w)` (reduction "mean"): the
  /// loss is the weighted mean `Σₙ w_{yₙ} lₙ / Σₙ w_{yₙ}` and its gradient
  /// `w_{yₙ} (softmax(zₙ) − onehot(yₙ)) / Σₘ w_{yₘ}`; the weight sum is a Double summed in
  /// image order (`weightSum(labels:classWeights:)`, which the sharded step uses to combine
  /// shards). Without weights the arithmetic is the unweighted one, bit for bit.
  ///
  /// - Parameters:
  ///   - logits: `[classes, count, 1, 1]`.
  ///   - labels: The class of each image, `count` of them, each in `0..<classes`.
  ///   - classWeights: One weight ≥ 0 per class, or `nil` for all 1; the images' weights
  ///     must not all be 0.
  public func lossAndGradient<Scalar: GEMMScalar>(
    _ logits: FeatureMaps<Scalar>, labels: [Int], classWeights: [Float]? = nil
  ) -> (loss: Double, gradient: FeatureMaps<Scalar>, correct: Int) {
    let (classes, count) = flatSizes(logits.shape)
    precondition(labels.count == count, "labels.count (\(labels.count)) != batch size (\(count))")
    if let classWeights {
      precondition(
        classWeights.count == classes,
        "classWeights.count (\(classWeights.count)) != classes (\(classes))")
    }
    // The divisor of the mean: N, or the images' weight sum.
    let total = weightSum(labels: labels, classWeights: classWeights)
    precondition(total > 0 && total.isFinite, "the images' class weights sum to \(total)")
    var gradient = FeatureMaps<Scalar>(shape: logits.shape)
    var loss = 0.0
    var correct = 0
    logits.storage.withBase { z in
      gradient.storage.withMutableBase { g in
        for n in 0..<count {
          let label = labels[n]
          precondition(label >= 0 && label < classes, "label \(label) out of 0..<\(classes)")
          var top = -Double.infinity
          var best = 0
          for k in 0..<classes where Double(z[k * count + n]) > top {
            top = Double(z[k * count + n])
            best = k
          }
          if best == label { correct += 1 }
          var sum = 0.0
          for k in 0..<classes { sum += exp(Double(z[k * count + n]) - top) }
          let imageLoss = log(sum) - (Double(z[label * count + n]) - top)
          if let classWeights {
            let w = Double(classWeights[label])
            loss += w * imageLoss
            for k in 0..<classes {
              let p = exp(Double(z[k * count + n]) - top) / sum
              g[k * count + n] = Scalar(w * (p - (k == label ? 1 : 0)) / total)
            }
          } else {
            loss += imageLoss
            for k in 0..<classes {
              let p = exp(Double(z[k * count + n]) - top) / sum
              g[k * count + n] = Scalar((p - (k == label ? 1 : 0)) / total)
            }
          }
        }
      }
    }
    return (loss / total, gradient, correct)
  }

  /// The divisor of a batch's mean loss: `Σₙ w_{yₙ}` summed in image order as a Double, or
  /// the image count (exactly) without weights.
  public func weightSum(labels: [Int], classWeights: [Float]?) -> Double {
    guard let classWeights else { return Double(labels.count) }
    var total = 0.0
    for label in labels { total += Double(classWeights[label]) }
    return total
  }

  private func flatSizes(_ shape: MapShape) -> (classes: Int, count: Int) {
    precondition(
      shape.height == 1 && shape.width == 1 && shape.channels > 0 && shape.count > 0,
      "class scores must be a non-empty flat batch, not \(shape)")
    return (shape.channels, shape.count)
  }
}

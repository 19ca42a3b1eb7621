"""References for the ONNX speed bars of issue #18 (part 2, item 4), in the torch virtualenv
(torch, onnx, onnxruntime, lime, scikit-image, Pillow):

    python .ci/bench_onnx.py models DIR
    python .ci/bench_onnx.py forward DIR/resnet18.onnx --threads N [--batch 32] [--repeats 7]
    python .ci/bench_onnx.py lime DIR/resnet18-w16.onnx --image DIR/image.png [--threads 2] [--samples 1000]

`models` writes, from seeded random weights (nothing is downloaded, nothing large committed):
  DIR/resnet18.onnx  ResNet-18 in torchvision's layout (7x7/2 stem, max-pool, BasicBlocks
                     [2, 2, 2, 2] at 64/128/256/512, global average pool, 1000 classes; 11.7 M
                     parameters), eval mode, exported as the README says (dynamic batch)
  DIR/resnet18-w16.onnx  the same topology at base width 16 (16/32/64/128, 1000 classes;
                     0.83 M parameters), for the LIME bar: a ResNet-18-shaped network whose
                     convolutions cost less, so that LIME's own work weighs more
  DIR/image.png      scikit-image's astronaut photo (CC0) resized to 224x224
`forward`: onnxruntime (intra_op_num_threads N, inter_op 1, sequential) on a seeded random
batch of 32 224x224 images; one warm-up run, then the median of the repeats. Prints
`onnx-forward-tN<TAB>seconds per batch` last.
`lime`: lime 0.2.0.1's LimeImageExplainer(random_state=0).explain_instance on the image, top 2
labels, num_samples 1000, batch_size 100, hide_color None, once per segmenter of the list below
(the same specs Glimpse's side is given), classifier_fn = softmax(onnxruntime(NCHW float32)).
Prints `onnx-lime<TAB>total seconds` (the six calls; imports and session creation left out).
"""
import json
import statistics
import sys
import time

SEGMENTERS = ["slic:50:0.3:0:10:0", "slic:100:0.3:0:10:0", "felzenszwalb:200:0.8:100", "quickshift:4:200:0.2",
              "grid:6", "grid:12"]


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def models(folder):
    import os
    import numpy as np
    import torch
    from torch import nn
    from PIL import Image
    from skimage import data, transform

    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x):
            y = torch.relu(self.bn1(self.conv1(x)))
            y = self.bn2(self.conv2(y))
            return torch.relu(y + (x if self.down is None else self.down(x)))

    class ResNet18(nn.Module):
        def __init__(self, width, classes):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
            layers, cin = [], width
            for cout, stride in [(width, 1), (2 * width, 2), (4 * width, 2), (8 * width, 2)]:
                layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
                cin = cout
            self.layers = nn.Sequential(*layers)
            self.fc = nn.Linear(8 * width, classes)

        def forward(self, x):
            x = self.layers(self.stem(x))
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))

    networks = [("resnet18", ResNet18(64, 1000)), ("resnet18-w16", ResNet18(16, 1000))]
    for name, model in networks:
        model.eval()
        for m in model.modules():  # non-trivial running statistics
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), f"{folder}/{name}.onnx",
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}}, opset_version=17, dynamo=False)
    image = transform.resize(data.astronaut(), (224, 224), anti_aliasing=True)
    Image.fromarray((image * 255).round().astype(np.uint8)).save(f"{folder}/image.png")


def session(path, threads):
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def forward(path):
    import numpy as np
    threads = int(arg("--threads", "1"))
    batch = int(arg("--batch", "32"))
    repeats = int(arg("--repeats", "7"))
    s = session(path, threads)
    x = np.random.default_rng(0).random((batch, 3, 224, 224), dtype=np.float32)
    s.run(None, {"input": x})
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        s.run(None, {"input": x})
        times.append(time.perf_counter() - t)
    print(json.dumps({"threads": threads, "batch": batch, "seconds": times}))
    print(f"onnx-forward-t{threads}\t{statistics.median(times)}")


def segmenter(spec):
    from lime.wrappers.scikit_image import SegmentationAlgorithm
    parts = spec.split(":")
    if parts[0] == "slic":
        return SegmentationAlgorithm("slic", n_segments=int(parts[1]),
                                     compactness=float(parts[2]), sigma=0, max_num_iter=10,
                                     convert2lab=False)
    if parts[0] == "felzenszwalb":
        return SegmentationAlgorithm("felzenszwalb", scale=float(parts[1]),
                                     sigma=float(parts[2]), min_size=int(parts[3]))
    if parts[0] == "quickshift":
        return SegmentationAlgorithm("quickshift", kernel_size=float(parts[1]),
                                     max_dist=float(parts[2]), ratio=float(parts[3]))
    n = int(parts[1])

    def grid(image):
        import numpy as np
        h, w = image.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w]
        return (ys * n // h) * n + xs * n // w
    return grid


def lime(path):
    import numpy as np
    from PIL import Image
    from lime import lime_image
    threads = int(arg("--threads", "2"))
    samples = int(arg("--samples", "1000"))
    image = np.asarray(Image.open(arg("--image", None)).convert("RGB"), dtype=np.float64) / 255
    s = session(path, threads)

    def classifier(batch):
        x = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32)
        z = s.run(None, {"input": x})[0].astype(np.float64)
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    total = 0.0
    for spec in SEGMENTERS:
        explainer = lime_image.LimeImageExplainer(random_state=0)
        t = time.perf_counter()
        explainer.explain_instance(image, classifier, top_labels=2, hide_color=None,
                                   num_features=100, num_samples=samples, batch_size=100,
                                   segmentation_fn=segmenter(spec))
        seconds = time.perf_counter() - t
        total += seconds
        print(json.dumps({"segmenter": spec, "seconds": seconds}))
    print(f"onnx-lime\t{total}")


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    {"models": models, "forward": forward, "lime": lime}[command](target)

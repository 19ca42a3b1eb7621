"""PyTorch references for the bars of issue #16 (the residual CNN on 224x224 images).

    python .ci/bench_cnn_torch.py data DIR
    python .ci/bench_cnn_torch.py train DIR --threads N [--epochs 10] [--save FILE] [--widths 16,16,32,64]
    python .ci/bench_cnn_torch.py lime DIR --image FILE [--weights FILE] [--threads 2] [--samples 1000]

`data` (numpy + scikit-image only, so either virtualenv runs it) writes the benchmark's image
folders, which Glimpse's side of `make bench` reads too:
  DIR/train/<class>/*.png   100 grey 224x224 crops per class (300 in all)
  DIR/test/<class>/*.png    20 per class (60), for the test accuracy
cut, as samples/textures/make_textures.py cuts the texture samples, from scikit-image's 512x512
CC0 brick, grass and gravel photos (see the samples credits in README.md), each crop randomly
flipped; training crops come from the left half of each photo (columns 0-255), test crops from
the right half (256-511), so no test pixel was seen in training.

`train` trains Glimpse's `--architecture resnet` network (built here in PyTorch; stem and block
widths as `--widths W0,W1,W2,W3`, by default Architecture.resnet's 16 and (16, 32, 64)) with the default recipe minus augmentation and validation (the speed
bar's recipe): Adam lr 1e-3 (betas 0.9/0.999, eps 1e-7 as Keras; PyTorch adds eps to
sqrt(v_hat), Keras to sqrt(v) with the bias correction folded into the step, a difference of
order eps), cosine decay of the learning rate to 0 over all steps (set before each step t of T:
lr = 1e-3 * (1 + cos(pi t / T)) / 2), batch 32, a fresh order each epoch (torch.randperm from a
generator seeded 0), float32, He uniform (fan_in) weights, zero Linear bias, BN gamma 1 beta 0,
torch.manual_seed(0). Each epoch is timed with perf_counter around its batch loop (after the
images are in memory and the first optimizer's one-time torch._dynamo import has been paid); the
test accuracy is taken in eval mode after the last epoch. Prints one JSON line per epoch and a
summary, then `resnet-epoch-tN<TAB>median epoch seconds` last (the `make bench` convention).

`lime` runs lime 0.2.0.1's `lime_image.LimeImageExplainer(random_state=0).explain_instance` on
one image with the same network (the weights `train --save` wrote, else the seeded He
initialisation), for the two top classes, num_samples 1000, batch_size 100, hide_color None,
num_features 100, once per default segmenter Glimpse uses for 224x224 grey images
(`SegmenterSpec.defaults(for:)`), given to lime as the equivalent scikit-image calls on lime's
gray2rgb copy of the image:
  slic:50:0.3             slic(n_segments=50, compactness=0.3, sigma=0, max_num_iter=10, convert2lab=False)
  slic:100:0.3            the same with 100 segments
  felzenszwalb:200:0.8:100  felzenszwalb(scale=200, sigma=0.8, min_size=100)   (min_size = 224*224/500)
  quickshift:4:200:0.2    quickshift(kernel_size=4, max_dist=200, ratio=0.2)   (lime's default)
  grid:6, grid:12         label (y*n//h)*n + x*n//w, as Glimpse's GridSegmenter
classifier_fn: channel 0 of lime's RGB batch (the three channels are equal) -> float32 NCHW ->
softmax(model) under no_grad, model in eval mode (running statistics). Prints one JSON line per
segmenter and a summary, then `resnet-lime<TAB>total seconds` last.

Runs in the torch virtualenv (../shared/anchors/python/setup_torch.sh); never run by CI.
"""
import json
import math
import os
import statistics
import sys
import time

T_START = time.perf_counter()
CLASSES = ["brick", "grass", "gravel"]
SIZE = 224


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


def emit(record):
    print(json.dumps(record), flush=True)


# --- data ----------------------------------------------------------------------------------------
def make_data(folder, train_per_class=100, test_per_class=20):
    import numpy as np
    from skimage import data, io

    rng = np.random.default_rng(16)
    for name in CLASSES:
        photo = getattr(data, name)()
        assert photo.shape == (512, 512) and photo.dtype == np.uint8, name
        for part, count, x0 in (("train", train_per_class, 0), ("test", test_per_class, 256)):
            out = os.path.join(folder, part, name)
            os.makedirs(out, exist_ok=True)
            for k in range(count):
                y = int(rng.integers(0, 512 - SIZE + 1))
                x = x0 + int(rng.integers(0, 256 - SIZE + 1))
                crop = photo[y:y + SIZE, x:x + SIZE]
                if rng.random() < 0.5:
                    crop = crop[:, ::-1]
                if rng.random() < 0.5:
                    crop = crop[::-1, :]
                io.imsave(os.path.join(out, f"{name}-{k:03d}.png"), np.ascontiguousarray(crop),
                          check_contrast=False)
    emit({"data": folder, "train": train_per_class * len(CLASSES), "test": test_per_class * len(CLASSES)})


def read_folder(folder):
    """Images of DIR/<class>/*.png as float32 (n, 1, H, W) in [0, 1] and labels (classes sorted)."""
    import numpy as np
    from skimage import io

    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    images, labels = [], []
    for c, name in enumerate(classes):
        for file in sorted(os.listdir(os.path.join(folder, name))):
            image = io.imread(os.path.join(folder, name, file))
            assert image.ndim == 2, f"{file}: expected a grey image"
            images.append(image.astype(np.float32) / 255)
            labels.append(c)
    return np.stack(images)[:, None], np.array(labels, dtype=np.int64), classes


# --- the network ---------------------------------------------------------------------------------
def widths():
    w = [int(v) for v in arg("--widths", "16,16,32,64").split(",")]
    assert len(w) == 4, "--widths takes W0,W1,W2,W3"
    return w


def make_model(channels, classes, w):
    import torch
    from torch import nn
    import torch.nn.functional as F

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            self.shortcut.add_module("conv", nn.Conv2d(cin, cout, 1, stride=stride, bias=False))
            self.shortcut.add_module("bn", nn.BatchNorm2d(cout))

        def forward(self, x):
            main = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(main + self.shortcut(x))

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential()
            self.stem.add_module("conv", nn.Conv2d(channels, w[0], 3, stride=2, padding=1, bias=False))
            self.stem.add_module("bn", nn.BatchNorm2d(w[0]))
            self.blocks = nn.Sequential(*[BasicBlock(a, b, 2) for a, b in zip(w[:-1], w[1:])])
            self.head = nn.Linear(w[-1], classes)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.stem(x)), 2)
            x = self.blocks(x)
            return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))

    torch.manual_seed(0)
    model = ResNet()
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, mode="fan_in", nonlinearity="relu")
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
    return model


def first_optimizer_use(torch):
    """The first torch.optim optimizer of a process imports torch._dynamo (~1 s, once): paid here."""
    t0 = time.perf_counter()
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    return time.perf_counter() - t0


def train(folder):
    import torch
    from torch import nn

    threads = int(arg("--threads", "1"))
    epochs = int(arg("--epochs", "10"))
    batch = int(arg("--batch-size", "32"))
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    x_train, y_train, classes = read_folder(os.path.join(folder, "train"))
    x_test, y_test, test_classes = read_folder(os.path.join(folder, "test"))
    assert classes == test_classes, "train and test classes differ"
    read_s = time.perf_counter() - t0
    optimizer_import_s = first_optimizer_use(torch)
    w = widths()
    model = make_model(x_train.shape[1], len(classes), w)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    n = len(x_train)
    steps_per_epoch = math.ceil(n / batch)
    total_steps = epochs * steps_per_epoch
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    gen = torch.Generator().manual_seed(0)
    step, records = 0, []
    model.train()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=gen)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, batch):
            for group in opt.param_groups:
                group["lr"] = 1e-3 * (1 + math.cos(math.pi * step / total_steps)) / 2
            b = order[s:s + batch]
            xb, yb = xt[b], yt[b]
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.item() * len(b)
            correct += int((out.argmax(1) == yb).sum())
        seconds = time.perf_counter() - t0
        records.append({"epoch": epoch + 1, "seconds": seconds, "loss": loss_sum / n, "accuracy": correct / n})
        emit(records[-1])
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(torch.from_numpy(x_test[s:s + 100])).argmax(1)
                               for s in range(0, len(x_test), 100)]).numpy()
    accuracy = float((predicted == y_test).mean())
    save = arg("--save", None)
    if save:
        torch.save({"state_dict": model.state_dict(), "classes": classes, "widths": w}, save)
    epoch_seconds = [r["seconds"] for r in records]
    median = statistics.median(epoch_seconds)
    emit({"torch": torch.__version__, "threads": threads, "widths": w, "parameters": params,
          "train": n, "test": len(x_test), "epochs": epochs, "batch": batch, "read_s": read_s,
          "first_optimizer_use_s": optimizer_import_s, "epoch_s_median": median,
          "epoch_s_first": epoch_seconds[0], "epochs_sum_s": sum(epoch_seconds), "test_accuracy": accuracy})
    print(f"resnet-epoch-t{threads}\t{median}")


# --- LIME ----------------------------------------------------------------------------------------
def grid_segmenter(n):
    import numpy as np

    def segment(image):
        h, w = image.shape[:2]
        return ((np.arange(h) * n // h)[:, None] * n + (np.arange(w) * n // w)[None, :]).astype(np.int64)
    return segment


def segmenters(height, width):
    """Glimpse's SegmenterSpec.defaults(for:) for grey images larger than 32x32, as lime calls."""
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    min_size = max(20, round(height * width / 500))
    return [
        ("slic:50:0.3", SegmentationAlgorithm("slic", n_segments=50, compactness=0.3, sigma=0,
                                              max_num_iter=10, convert2lab=False)),
        ("slic:100:0.3", SegmentationAlgorithm("slic", n_segments=100, compactness=0.3, sigma=0,
                                               max_num_iter=10, convert2lab=False)),
        (f"felzenszwalb:200:0.8:{min_size}", SegmentationAlgorithm("felzenszwalb", scale=200, sigma=0.8,
                                                                   min_size=min_size)),
        ("quickshift:4:200:0.2", SegmentationAlgorithm("quickshift", kernel_size=4, max_dist=200, ratio=0.2)),
        ("grid:6", grid_segmenter(6)),
        ("grid:12", grid_segmenter(12)),
    ]


def lime(folder):
    import warnings
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")  # lime 0.2.0.1 draws a tqdm bar per call and has no switch
    import numpy as np
    import torch
    from lime import lime_image
    from skimage import io

    threads = int(arg("--threads", "2"))
    samples = int(arg("--samples", "1000"))
    torch.set_num_threads(threads)
    path = arg("--image", None)
    assert path, "lime needs --image FILE"
    image = io.imread(path).astype(np.float64) / 255
    assert image.ndim == 2, f"{path}: expected a grey image"
    weights = arg("--weights", None)
    classes = sorted(d for d in os.listdir(os.path.join(folder, "train"))) if folder else CLASSES
    if weights and os.path.exists(weights):
        saved = torch.load(weights)
        model = make_model(1, len(saved["classes"]), saved["widths"])
        model.load_state_dict(saved["state_dict"])
        trained = True
    else:
        model = make_model(1, len(classes), widths())
        trained = False
    model.eval()
    calls = [0]

    def classifier_fn(batch):
        calls[0] += len(batch)
        x = torch.from_numpy(np.ascontiguousarray(batch[..., 0], dtype=np.float32)[:, None])
        with torch.no_grad():
            return torch.softmax(model(x), dim=1).numpy().astype(np.float64)

    probabilities = classifier_fn(image[None, :, :, None].repeat(3, axis=3))[0]
    order = np.argsort(-probabilities, kind="stable")
    labels = (int(order[0]), int(order[1]))
    total0 = time.perf_counter()
    rows = []
    for name, segment in segmenters(*image.shape):
        t0 = time.perf_counter()
        explainer = lime_image.LimeImageExplainer(random_state=0)
        explanation = explainer.explain_instance(
            image, classifier_fn, labels=labels, hide_color=None, top_labels=None, num_features=100,
            num_samples=samples, batch_size=100, segmentation_fn=segment)
        seconds = time.perf_counter() - t0
        rgb = np.stack([image] * 3, axis=-1)
        t1 = time.perf_counter()
        segment(rgb)
        segment_s = time.perf_counter() - t1
        rows.append({"segmenter": name, "seconds": seconds, "segmentation_s": segment_s,
                     "segments": int(len(np.unique(explanation.segments))),
                     "r2_second": float(explanation.score)})
        emit(rows[-1])
    total = time.perf_counter() - total0
    emit({"torch": torch.__version__, "threads": threads, "image": path, "trained_weights": trained,
          "labels": labels, "samples": samples, "classifier_images": calls[0],
          "total_s": total, "segmentation_s_sum": sum(r["segmentation_s"] for r in rows),
          "process_s": time.perf_counter() - T_START})
    print(f"resnet-lime\t{total}")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("data", "train", "lime"):
        sys.exit(__doc__.split("\n\n")[1])
    command, folder = sys.argv[1], sys.argv[2]
    {"data": make_data, "train": train, "lime": lime}[command](folder)

"""Reference timing for `make bench`'s explain-batch section: the Python per-digit loop.

What `lime_anchor.py` does for each digit, with a picture per digit as explain-batch writes one:
lime_image on the SVC (2 labels: first and second class, 500 samples, batch 100, a fresh
LimeImageExplainer(random_state=0) per call) with the six seed segmenters, the combined maps and
the segmenters' Spearman agreement, then the anchor's 3 x 7 matplotlib figure saved as a PNG
(dpi 80) into a temporary folder. The model is fitted once, outside the timing.

usage: bench_reference_explain.py SAMPLES DIGITS [ANCHORS]
Prints `explain-digit-png<TAB>seconds per digit` (the mean over the first DIGITS test digits of
the anchor split) last. Run in the anchors virtualenv; never run by CI.
"""
import json
import os
import sys
import tempfile
import time
import warnings

samples = sys.argv[1]
digits = int(sys.argv[2]) if len(sys.argv) > 2 else 10
anchors = sys.argv[3] if len(sys.argv) > 3 else "../shared/anchors/python"
sys.path.insert(0, anchors)
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402
from skimage.color import gray2rgb  # noqa: E402
from skimage.segmentation import mark_boundaries  # noqa: E402

import lime_anchor as anchor  # noqa: E402

X = pd.read_csv(f"{samples}/mnist/mnist-imgs-mini.csv.bz2", index_col=0).to_numpy(dtype="float64")
y = pd.read_csv(f"{samples}/mnist/mnist-lbls-mini.csv.bz2", index_col=0)["label"].to_numpy()
with open(f"{samples}/mnist/split.json") as fh:
    split = json.load(fh)
model = anchor.fit_model(X, y, split)
fn = anchor.make_classifier_fn(model)
segs = anchor.segmenters()
te = np.array(split["test"])[:digits]
out = tempfile.mkdtemp(prefix="glimpse-bench-explain-py-")


def one(position, row):
    img = X[row].reshape(28, 28) / 255.0
    proba = model.predict_proba(img.reshape(1, -1))[0]
    order = np.argsort(-proba, kind="stable")
    labels = (int(order[0]), int(order[1]))
    exps = {name: anchor.explain(img, fn, labels, seg) for name, seg in segs}
    comb, agreement = {}, {}
    for label in labels:
        maps = [anchor.pixel_weights(exps[name], label) for name, _ in segs]
        comb[label] = anchor.combine(maps)
        rho = np.array([[spearmanr(a.ravel(), b.ravel())[0] for b in maps] for a in maps])
        agreement[label] = float((np.nansum(rho) - np.trace(rho)) / (rho.size - len(rho)))
    fig, ax = plt.subplots(3, 7, figsize=(15, 6.8))
    for a in ax.ravel():
        a.set_axis_off()
    ax[0, 0].imshow(img, cmap="gray")
    ax[0, 0].set_title(f"test#{position} truth {y[row]}", fontsize=9)
    for r, label in ((1, labels[0]), (2, labels[1])):
        ax[r, 0].imshow(anchor.hsv_overlay(img, comb[label]))
        ax[r, 0].set_title(f"combined: {proba[label]:.0%} {label}", fontsize=9)
    for j, (name, _) in enumerate(segs, start=1):
        e = exps[name]
        ax[0, j].imshow(mark_boundaries(gray2rgb(img), e.segments, color=(1, 1, 0)))
        ax[0, j].set_title(name, fontsize=9)
        for r, label in ((1, labels[0]), (2, labels[1])):
            w = anchor.pixel_weights(e, label)
            mx = np.abs(w).max()
            ax[r, j].imshow(anchor.hsv_overlay(img, w / mx if mx > 0 else w))
            ax[r, j].set_title(f"class {label}", fontsize=8)
    fig.suptitle(f"agreement {agreement[labels[0]]:.2f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"row-{row}.png"), dpi=80)
    plt.close(fig)


t0 = time.perf_counter()
for position, row in enumerate(te):
    one(position, int(row))
elapsed = time.perf_counter() - t0
for name in os.listdir(out):
    os.remove(os.path.join(out, name))
os.rmdir(out)
print(f"explain-digit-png\t{elapsed / len(te)}")

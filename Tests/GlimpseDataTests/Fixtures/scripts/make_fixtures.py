"""Makes the reference fixtures of GlimpseDataTests with Pillow, NumPy and pandas.

Run offline (not in CI) from this folder's parent, in the anchors virtualenv:
    ~/.cache/glimpse-anchors-venv/bin/python scripts/make_fixtures.py ../../../samples/mnist
It rewrites png/*.png, png/values.json, resize.json, mnist50.csv.gz and mnist_stats.json.
"""
import gzip
import json
import os
import sys

import numpy as np
import pandas as pd
import PIL
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.dirname(here)
samples = sys.argv[1] if len(sys.argv) > 1 else os.path.join(out, "../../../samples/mnist")
os.makedirs(os.path.join(out, "png"), exist_ok=True)
rng = np.random.default_rng(7)

# --- PNG colour types and depths: files written by Pillow, samples as Pillow reads them back.
expected = {}

gray16 = rng.integers(0, 65536, size=(3, 5), dtype=np.uint16)
Image.fromarray(gray16).save(os.path.join(out, "png/gray16.png"))
back = np.array(Image.open(os.path.join(out, "png/gray16.png")), dtype=np.float64)
expected["gray16"] = {"shape": [3, 5, 1], "values": (back / 65535).ravel().tolist()}

palette = Image.new("P", (4, 3))
palette.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30] + [0] * (256 * 3 - 12))
palette.putdata([0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 1, 1])
palette.save(os.path.join(out, "png/palette.png"))
back = np.array(Image.open(os.path.join(out, "png/palette.png")).convert("RGB"), dtype=np.float64)
expected["palette"] = {"shape": [3, 4, 3], "values": (back / 255).ravel().tolist()}

la = rng.integers(0, 256, size=(2, 3, 2), dtype=np.uint8)
Image.fromarray(la).save(os.path.join(out, "png/gray_alpha.png"))
expected["gray_alpha"] = {"shape": [2, 3, 2], "values": (la / 255).ravel().tolist()}

bits = rng.integers(0, 2, size=(3, 9)).astype(bool)
Image.fromarray(bits).save(os.path.join(out, "png/bilevel.png"))
back = np.array(Image.open(os.path.join(out, "png/bilevel.png")).convert("L"), dtype=np.float64)
expected["bilevel"] = {"shape": [3, 9, 1], "values": (back / 255).ravel().tolist()}

rgba = rng.integers(0, 256, size=(3, 2, 4), dtype=np.uint8)
Image.fromarray(rgba).save(os.path.join(out, "png/rgba.png"))
expected["rgba"] = {"shape": [3, 2, 4], "values": (rgba / 255).ravel().tolist()}

with open(os.path.join(out, "png/values.json"), "w") as fh:
    json.dump(expected, fh)

# --- Resizing: Pillow's antialiased bilinear on float ("F") images.
cases = []
for (h, w), (th, tw) in [((6, 8), (3, 4)), ((6, 8), (11, 13)), ((28, 28), (10, 7)), ((5, 5), (5, 9))]:
    src = rng.random((h, w)).astype(np.float32)
    dst = np.array(Image.fromarray(src).resize((tw, th), Image.BILINEAR), dtype=np.float64)
    cases.append({"shape": [h, w], "target": [th, tw], "input": src.astype(np.float64).ravel().tolist(),
                  "output": dst.ravel().tolist()})
with open(os.path.join(out, "resize.json"), "w") as fh:
    json.dump({"pillow": PIL.__version__, "filter": "BILINEAR", "cases": cases}, fh)

# --- The MNIST sample as pandas reads it: statistics and a one-file gzip table of 50 rows.
images = pd.read_csv(os.path.join(samples, "mnist-imgs-mini.csv.bz2"), index_col=0)
labels = pd.read_csv(os.path.join(samples, "mnist-lbls-mini.csv.bz2"), index_col=0)
X = images.to_numpy(dtype=np.float64)
y = labels["label"].to_numpy()
stats = {
    "rows": int(X.shape[0]), "columns": int(X.shape[1]),
    "sum_scaled": float((X / 255).sum()),
    "row_sums_scaled_first5": (X[:5] / 255).sum(axis=1).tolist(),
    "class_counts": np.bincount(y).tolist(),
    "labels_first5": y[:5].tolist(), "labels_last5": y[-5:].tolist(),
    "pixel_1234_300": float(X[1234, 300] / 255),
}
with open(os.path.join(out, "mnist_stats.json"), "w") as fh:
    json.dump(stats, fh)
sel = np.r_[0:5, 500:505, 1000:1005, 1500:1505, 2000:2005, 2500:2505, 3000:3005, 3500:3505, 4000:4005, 4500:4505]
one = images.iloc[sel].copy()
one.insert(0, "label", y[sel])  # label first: the column need not be last
with gzip.open(os.path.join(out, "mnist50.csv.gz"), "wt") as fh:
    one.to_csv(fh, index=False)
with open(os.path.join(out, "mnist50_rows.json"), "w") as fh:
    json.dump(sel.tolist(), fh)
print("fixtures written to", out)

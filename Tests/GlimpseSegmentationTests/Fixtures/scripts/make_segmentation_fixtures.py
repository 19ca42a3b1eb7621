"""Makes the scikit-image reference fixtures of GlimpseSegmentationTests.

Run offline (not in CI), from anywhere, in the anchors virtualenv (scikit-image 0.26, NumPy,
pandas, Pillow):

    ~/.cache/glimpse-anchors-venv/bin/python \
        Tests/GlimpseSegmentationTests/Fixtures/scripts/make_segmentation_fixtures.py

It reads digits from samples/mnist/mnist-imgs-mini.csv.bz2 (pandas layout, pixels/255) and
rewrites, in Tests/GlimpseSegmentationTests/Fixtures/:

  slic_digits.json     six digits of six classes as bytes, and scikit-image's SLIC labels on
                       each as lime_image calls it (gray2rgb copy, n_segments=25,
                       compactness 0.01 / 0.1 / 1, convert2lab=False, enforce_connectivity=True,
                       everything else at scikit-image's defaults: max_num_iter=10, sigma=0,
                       start_label=1, which lime's SegmentationAlgorithm leaves alone), plus
                       SLIC on the 2-D grey array, on the copy with Lab, and with sigma=1;
  slic_astronaut.json  SLIC on skimage.data.astronaut() at scikit-image's defaults with
                       n_segments=250, run-length encoded, and on a 128x128 crop;
  felzenszwalb.json    felzenszwalb at its defaults on three digits (copy and 2-D), at a finer
                       setting (scale=100, sigma=0.5, min_size=5) on the copies, and on a
                       96x96 crop of the photo (defaults and scale=100);
  quickshift.json      quickshift on two digits (lime's gray2rgb copy, Lab) at scikit-image's
                       defaults, at lime's (kernel_size=4, max_dist=200, ratio=0.2) and at a
                       finer setting, on a 48x48 crop of the photo at the defaults and the
                       finer setting, and the tie-breaking noise
                       quickshift adds to its densities (default_rng(42).normal(scale=1e-5)),
                       so the Swift tests can replay it exactly;

and samples/photos/astronaut.png, the photo the demo and benchmark use. The astronaut image
(Eileen Collins, NASA image S94-37303) is in the public domain as a work of NASA; scikit-image
ships it as skimage.data.astronaut().

Labels are stored as scikit-image returns them (SLIC from 1, the others from 0); the tests
compare partitions, not label values.
"""
import json
import os

import numpy as np
import pandas as pd
import skimage
from PIL import Image
from skimage import data
from skimage.color import gray2rgb
from skimage.segmentation import felzenszwalb, quickshift, slic

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.dirname(here)
root = os.path.abspath(os.path.join(fixtures, "../../.."))
samples = os.path.join(root, "samples")

# The crops of the photo used where the full 512x512 image would make a debug-mode test slow.
# Rows, columns as [start, stop); the face and the flag, where colours change a lot.
SLIC_CROP = (100, 228, 150, 278)
FELZ_CROP = (120, 216, 180, 276)
QUICK_CROP = (150, 198, 200, 248)


def dump(name, value):
    path = os.path.join(fixtures, name)
    with open(path, "w") as fh:
        json.dump(value, fh, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


def labels(segments):
    return np.asarray(segments).astype(int).ravel().tolist()


def run_lengths(segments):
    """[value, length, value, length, ...] of the row-major label list."""
    flat = np.asarray(segments).ravel()
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    lengths = np.diff(np.r_[starts, flat.size])
    return np.column_stack([flat[starts], lengths]).ravel().astype(int).tolist()


# --- Digits: the lime anchor's first test digit, then five more of other classes.
images = pd.read_csv(os.path.join(samples, "mnist/mnist-imgs-mini.csv.bz2"), index_col=0)
classes = pd.read_csv(os.path.join(samples, "mnist/mnist-lbls-mini.csv.bz2"), index_col=0)
pixels = images.to_numpy()
targets = classes["label"].to_numpy()
perm = np.random.default_rng(0).permutation(len(pixels))
rows = [int(perm[1000])]  # split.json's test[0], the digit of lime_anchor.py's speed check
for c in (0, 1, 3, 4, 7, 8, 9):
    if len(rows) == 6:
        break
    if c != targets[rows[0]]:
        rows.append(int(np.flatnonzero(targets == c)[10]))
digits = [pixels[r].reshape(28, 28) / 255.0 for r in rows]

slic_cases = []
for d, digit in enumerate(digits):
    rgb = gray2rgb(digit)
    for c in (0.01, 0.1, 1.0):
        seg = slic(rgb, n_segments=25, compactness=c, convert2lab=False, enforce_connectivity=True)
        slic_cases.append({"digit": d, "input": "gray2rgb", "n_segments": 25, "compactness": c,
                           "sigma": 0.0, "convert2lab": False, "labels": labels(seg)})
    seg = slic(digit, n_segments=25, compactness=0.1, channel_axis=None, enforce_connectivity=True)
    slic_cases.append({"digit": d, "input": "gray2d", "n_segments": 25, "compactness": 0.1,
                       "sigma": 0.0, "convert2lab": False, "labels": labels(seg)})
    seg = slic(rgb, n_segments=25, compactness=10, convert2lab=True)
    slic_cases.append({"digit": d, "input": "gray2rgb", "n_segments": 25, "compactness": 10.0,
                       "sigma": 0.0, "convert2lab": True, "labels": labels(seg)})
    seg = slic(rgb, n_segments=25, compactness=0.1, sigma=1.0, convert2lab=False)
    slic_cases.append({"digit": d, "input": "gray2rgb", "n_segments": 25, "compactness": 0.1,
                       "sigma": 1.0, "convert2lab": False, "labels": labels(seg)})

dump("slic_digits.json", {
    "skimage": skimage.__version__,
    "source": "samples/mnist/mnist-imgs-mini.csv.bz2",
    "digits": [{"row": r, "class": int(targets[r]), "bytes": pixels[r].astype(int).tolist()}
               for r in rows],
    "cases": slic_cases,
})

# --- The photo.
astronaut = data.astronaut()
os.makedirs(os.path.join(samples, "photos"), exist_ok=True)
# Public-domain NASA photograph (see the docstring); written once as the demo/benchmark sample.
Image.fromarray(astronaut).save(os.path.join(samples, "photos/astronaut.png"), optimize=True)
assert np.array_equal(np.asarray(Image.open(os.path.join(samples, "photos/astronaut.png"))),
                      astronaut)

full = slic(astronaut, n_segments=250)
r0, r1, c0, c1 = SLIC_CROP
crop = astronaut[r0:r1, c0:c1]
dump("slic_astronaut.json", {
    "skimage": skimage.__version__,
    "call": "slic(astronaut(), n_segments=250)  # compactness=10, convert2lab=True, max_num_iter=10",
    "height": 512, "width": 512, "n_segments": 250,
    "runs": run_lengths(full),
    "crop": {"rows": [r0, r1], "columns": [c0, c1], "n_segments": 40,
             "call": "slic(astronaut()[rows, columns], n_segments=40)",
             "labels": labels(slic(crop, n_segments=40))},
    "crop_rgb": {"rows": [r0, r1], "columns": [c0, c1], "n_segments": 40, "compactness": 0.2,
                 "call": "slic(crop, n_segments=40, compactness=0.2, convert2lab=False, sigma=1)",
                 "labels": labels(slic(crop, n_segments=40, compactness=0.2,
                                       convert2lab=False, sigma=1))},
})

# --- Felzenszwalb.
felz_cases = []
for d in range(3):
    felz_cases.append({"digit": d, "input": "gray2rgb", "scale": 1.0, "sigma": 0.8, "min_size": 20,
                       "labels": labels(felzenszwalb(gray2rgb(digits[d])))})
    felz_cases.append({"digit": d, "input": "gray2d", "scale": 1.0, "sigma": 0.8, "min_size": 20,
                       "labels": labels(felzenszwalb(digits[d], channel_axis=None))})
    # At the defaults a digit has 2 or 3 segments; a finer setting tests more merges.
    felz_cases.append({"digit": d, "input": "gray2rgb", "scale": 100.0, "sigma": 0.5, "min_size": 5,
                       "labels": labels(felzenszwalb(gray2rgb(digits[d]), scale=100, sigma=0.5,
                                                     min_size=5))})
r0, r1, c0, c1 = FELZ_CROP
crop = astronaut[r0:r1, c0:c1]
for scale in (1.0, 100.0):
    felz_cases.append({"digit": -1, "input": "photo", "scale": scale, "sigma": 0.8, "min_size": 20,
                       "labels": labels(felzenszwalb(crop, scale=scale, sigma=0.8, min_size=20))})
dump("felzenszwalb.json", {
    "skimage": skimage.__version__,
    "crop": {"rows": [r0, r1], "columns": [c0, c1]},
    "cases": felz_cases,
})

# --- Quickshift. Its densities get N(0, 1e-5) noise from default_rng(42) to break ties; the
# noise depends only on the image's shape, so one array per shape.
quick_cases = []
for d in range(2):
    rgb = gray2rgb(digits[d])
    quick_cases.append({"digit": d, "input": "gray2rgb", "kernel_size": 5.0, "max_dist": 10.0,
                        "ratio": 1.0, "labels": labels(quickshift(rgb))})
    quick_cases.append({"digit": d, "input": "gray2rgb", "kernel_size": 4.0, "max_dist": 200.0,
                        "ratio": 0.2,
                        "labels": labels(quickshift(rgb, kernel_size=4, max_dist=200, ratio=0.2))})
    quick_cases.append({"digit": d, "input": "gray2rgb", "kernel_size": 2.0, "max_dist": 6.0,
                        "ratio": 0.5,
                        "labels": labels(quickshift(rgb, kernel_size=2, max_dist=6, ratio=0.5))})
r0, r1, c0, c1 = QUICK_CROP
crop = astronaut[r0:r1, c0:c1]
quick_cases.append({"digit": -1, "input": "photo", "kernel_size": 5.0, "max_dist": 10.0,
                    "ratio": 1.0, "labels": labels(quickshift(crop))})
quick_cases.append({"digit": -1, "input": "photo", "kernel_size": 3.0, "max_dist": 6.0,
                    "ratio": 0.5, "labels": labels(quickshift(crop, kernel_size=3, max_dist=6,
                                                              ratio=0.5))})
noise = {f"{h}x{w}": np.random.default_rng(42).normal(scale=0.00001, size=(h, w)).ravel().tolist()
         for h, w in [(28, 28), (r1 - r0, c1 - c0)]}
dump("quickshift.json", {
    "skimage": skimage.__version__,
    "crop": {"rows": [r0, r1], "columns": [c0, c1]},
    "noise": noise,
    "cases": quick_cases,
})

"""Reference timings for `make bench`: the same stages done the way the Python pipeline does them.

Prints `stage<TAB>median seconds` lines, like `glimpse-bench STAGE`. Run in the anchors virtualenv
(../shared/anchors/python/setup.sh); never run by CI.
"""
import bz2
import io
import statistics
import sys
import time

import pandas as pd

samples = sys.argv[1]
stage = sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 7
images = f"{samples}/mnist/mnist-imgs-mini.csv.bz2"
labels = f"{samples}/mnist/mnist-lbls-mini.csv.bz2"


def read_csv():
    X = pd.read_csv(images, index_col=0).to_numpy(dtype="float64") / 255
    y = pd.read_csv(labels, index_col=0)["label"].to_numpy()
    return X, y


def decompress():
    with open(images, "rb") as fh:
        return bz2.decompress(fh.read())


text = decompress()


def parse_csv():
    return pd.read_csv(io.BytesIO(text), index_col=0)


def anchor_split():
    import json
    X, y = read_csv()
    with open(f"{samples}/mnist/split.json") as fh:
        split = json.load(fh)
    return X[split["train"]], y[split["train"]], X[split["test"]], y[split["test"]]


def svm_model():
    import warnings
    from sklearn.svm import SVC
    warnings.filterwarnings("ignore")
    Xtr, ytr, Xte, _ = anchor_split()
    return SVC(probability=True, random_state=0), Xtr, ytr, Xte


def lime_digit_setup():
    import sys as _sys
    _sys.path.insert(0, ANCHORS)
    import warnings
    warnings.filterwarnings("ignore")
    import lime_anchor
    from common import load
    X, y, split = load()
    model = lime_anchor.fit_model(X, y, split)
    pos, c1, c2, _ = lime_anchor.ambiguous(model, X, y, split)
    i = pos[0]
    img = X[split["test"][i]].reshape(28, 28) / 255.0
    fn = lime_anchor.make_classifier_fn(model)
    segs = lime_anchor.segmenters()
    labels = (int(c1[i]), int(c2[i]))
    return lambda: [lime_anchor.explain(img, fn, labels, seg) for _, seg in segs]


def slic_setup():
    import numpy as np
    from PIL import Image
    from skimage.segmentation import slic
    photo = np.array(Image.open(f"{samples}/photos/astronaut.png").convert("RGB"))
    return lambda: slic(photo, n_segments=250)


ANCHORS = sys.argv[4] if len(sys.argv) > 4 else "../shared/anchors/python"

if stage.startswith("svm"):
    model, Xtr, ytr, Xte = svm_model()
    fitted = model.fit(Xtr, ytr)

stages = {
    "read-csv": read_csv, "decompress-bz2": decompress, "parse-csv": parse_csv,
    "svm-fit": lambda: model.fit(Xtr, ytr),
    "svm-predict-proba": lambda: fitted.predict_proba(Xte),
}
if stage == "lime-digit":
    stages[stage] = lime_digit_setup()
if stage == "slic-512":
    stages[stage] = slic_setup()
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    stages[stage]()
    times.append(time.perf_counter() - t0)
print(f"{stage}\t{statistics.median(times)}")

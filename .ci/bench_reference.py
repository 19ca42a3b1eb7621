"""Reference timings for `make bench`: the same stages done the way the Python pipeline does them.

Prints `stage<TAB>median seconds` lines, like `glimpse bench STAGE`. Run in the anchors virtualenv
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


if stage.startswith("svm"):
    model, Xtr, ytr, Xte = svm_model()
    fitted = model.fit(Xtr, ytr)

stages = {
    "read-csv": read_csv, "decompress-bz2": decompress, "parse-csv": parse_csv,
    "svm-fit": lambda: model.fit(Xtr, ytr),
    "svm-predict-proba": lambda: fitted.predict_proba(Xte),
}
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    stages[stage]()
    times.append(time.perf_counter() - t0)
print(f"{stage}\t{statistics.median(times)}")

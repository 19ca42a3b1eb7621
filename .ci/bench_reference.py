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


stages = {"read-csv": read_csv, "decompress-bz2": decompress, "parse-csv": parse_csv}
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    stages[stage]()
    times.append(time.perf_counter() - t0)
print(f"{stage}\t{statistics.median(times)}")

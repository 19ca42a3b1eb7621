"""Makes the KNN-Shapley fixtures: knn_digits.csv.gz and knn_pydvl.json.

Data: the first 100 anchor training digits (split.json "train", NOISY labels) and the first 50
anchor test digits (true labels), pixels 0..255, in one table: rows 0..99 training, 100..149
validation. Values: pyDVL 0.10's KNNShapleyValuation(KNeighborsClassifier(n_neighbors=k))
on pixels/255, for several k, one joblib job. These 150 digits have no two training digits at
exactly equal distance from a validation digit, so the order pyDVL gets from scikit-learn is
unambiguous. Run in the anchors' virtualenv from the repository root:

    ~/.cache/glimpse-anchors-venv/bin/python Tests/GlimpseValuationTests/Fixtures/knn_make_fixture.py
"""
import gzip
import json
import os

import numpy as np
import pandas as pd
import pydvl
from joblib import parallel_config
from pydvl.valuation import Dataset, KNNShapleyValuation
from sklearn.neighbors import KNeighborsClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "..", "samples", "mnist")
TRAIN, VALID, KS = 100, 50, [1, 3, 5, 10]

X = pd.read_csv(os.path.join(SAMPLES, "mnist-imgs-mini.csv.bz2"), index_col=0).to_numpy(np.int64)
y = pd.read_csv(os.path.join(SAMPLES, "mnist-lbls-mini.csv.bz2"), index_col=0)["label"].to_numpy()
with open(os.path.join(SAMPLES, "split.json")) as fh:
    split = json.load(fh)
train_rows = split["train"][:TRAIN]
valid_rows = split["test"][:VALID]
pixels = np.vstack([X[train_rows], X[valid_rows]])
labels = np.concatenate([np.array(split["noisy"]["train_labels_noisy"][:TRAIN]), y[valid_rows]])

# Exact integer distances: check that no validation digit has two training digits at one distance.
d = ((pixels[TRAIN:, None, :] - pixels[None, :TRAIN, :]) ** 2).sum(axis=2)
assert all(len(np.unique(row)) == TRAIN for row in d), "ties: pick other rows"

with gzip.GzipFile(os.path.join(HERE, "knn_digits.csv.gz"), "wb", mtime=0) as fh:
    header = ",".join([f"p{i}" for i in range(784)] + ["label"])
    lines = [header] + [",".join(map(str, list(p) + [l])) for p, l in zip(pixels, labels)]
    fh.write(("\n".join(lines) + "\n").encode())

train = Dataset(pixels[:TRAIN] / 255.0, labels[:TRAIN])
valid = Dataset(pixels[TRAIN:] / 255.0, labels[TRAIN:])
values = {}
for k in KS:
    valuation = KNNShapleyValuation(KNeighborsClassifier(n_neighbors=k), test_data=valid,
                                    progress=False)
    with parallel_config(n_jobs=1):
        valuation.fit(train)
    result = valuation.result
    v = np.zeros(TRAIN)
    v[result.indices] = result.values
    values[str(k)] = [float(x) for x in v]

with open(os.path.join(HERE, "knn_pydvl.json"), "w") as fh:
    json.dump({"pydvl": pydvl.__version__, "training": TRAIN, "validation": VALID,
               "train_rows": train_rows, "valid_rows": valid_rows, "values": values}, fh)
    fh.write("\n")

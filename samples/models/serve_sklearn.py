#!/usr/bin/env python3
"""A Glimpse model server for a pickled scikit-learn pipeline (or any estimator with
predict_proba) that takes flattened images, H*W*C values in [0, 1] (NHWC order).

    glimpse explain cmd:'python3 samples/models/serve_sklearn.py model.pkl --size 64x64x3' \\
        --image cat.png

--size HxWxC is the image shape the pipeline was trained on; class names are the estimator's
classes_. Needs numpy and scikit-learn (the user's Python, not Glimpse's). Only unpickle files
you trust: unpickling runs code.
"""
import argparse
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glimpse_protocol  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model", help="a pickled estimator with predict_proba")
    parser.add_argument("--size", required=True, help="HxWxC, e.g. 64x64x3")
    args = parser.parse_args()
    h, w, c = (int(v) for v in args.size.lower().split("x"))
    with open(args.model, "rb") as f:
        model = pickle.load(f)
    classes = [str(name) for name in model.classes_]

    def predict(n, pixels):
        x = np.frombuffer(pixels, dtype="<f4").reshape(n, h * w * c).astype(np.float64)
        return np.asarray(model.predict_proba(x), dtype=np.float64)

    glimpse_protocol.serve(h, w, c, classes, predict)


if __name__ == "__main__":
    main()

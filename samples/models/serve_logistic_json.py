#!/usr/bin/env python3
"""A Glimpse model server that needs only Python's standard library: a multinomial logistic
regression whose weights are read from a JSON file

    {"height": H, "width": W, "channels": C, "classes": ["a", "b", ...],
     "weights": [[... H*W*C values ...], ...one row per class],
     "intercepts": [... one per class ...]}

p = softmax(W x + b) over the image's H*W*C values in [0, 1] (NHWC order).

    glimpse explain cmd:'python3 samples/models/serve_logistic_json.py model.json' --image cat.png

--fault KIND[@N] makes it misbehave at its N-th batch (default 1), for Glimpse's tests: crash,
hang, shape, nan, unnormalised, garbage, error, logits.
"""
import json
import math
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glimpse_protocol  # noqa: E402


def main():
    args = sys.argv[1:]
    fault, fault_at = None, 1
    if "--fault" in args:
        i = args.index("--fault")
        fault = args[i + 1]
        del args[i:i + 2]
        if "@" in fault:
            fault, at = fault.split("@")
            fault_at = int(at)
    if len(args) != 1:
        sys.stderr.write("usage: serve_logistic_json.py MODEL.json [--fault KIND[@N]]\n")
        sys.exit(2)
    with open(args[0]) as f:
        model = json.load(f)
    h, w, c = model["height"], model["width"], model["channels"]
    classes = model["classes"]
    weights, intercepts = model["weights"], model["intercepts"]
    size = h * w * c
    if fault == "garbage-hello":
        sys.stdout.buffer.write(b"HTTP/1.1 200 OK\r\n\r\n" + b"\0" * 16)
        sys.stdout.flush()
        time.sleep(5)
        return
    batches = [0]

    def predict(n, pixels):
        batches[0] += 1
        at = fault is not None and batches[0] >= fault_at
        if at and fault == "crash":
            sys.stderr.write("serve_logistic_json: simulated crash in batch %d\n" % batches[0])
            sys.stderr.flush()
            os._exit(3)
        if at and fault == "hang":
            time.sleep(3600)
        if at and fault == "error":
            raise ValueError("simulated failure in batch %d" % batches[0])
        values = struct.unpack("<%df" % (n * size), pixels)
        rows = []
        for r in range(n):
            x = values[r * size:(r + 1) * size]
            logits = [b + sum(wi * xi for wi, xi in zip(wrow, x))
                      for wrow, b in zip(weights, intercepts)]
            if at and fault == "logits":
                rows.append(logits)
                continue
            top = max(logits)
            e = [math.exp(v - top) for v in logits]
            s = sum(e)
            rows.append([v / s for v in e])
        if at and fault == "shape":
            rows = [row[:-1] for row in rows]
        if at and fault == "nan":
            rows[0][0] = float("nan")
        if at and fault == "unnormalised":
            rows = [[0.5 * v for v in row] for row in rows]
        if at and fault == "garbage":
            sys.stdout.buffer.write(b"Traceback (most recent call last):\n")
            sys.stdout.flush()
            time.sleep(3600)
        return rows

    glimpse_protocol.serve(h, w, c, classes, predict)


if __name__ == "__main__":
    main()

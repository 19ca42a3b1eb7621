#!/usr/bin/env python3
"""A Glimpse model server that runs an ONNX image classifier with onnxruntime (for operators
Glimpse's own runner does not have; for the others, give Glimpse the .onnx directly).

    glimpse explain cmd:'python3 samples/models/serve_onnxruntime.py model.onnx \\
        --size 224x224 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225' --image cat.png

The model takes NCHW float32 (PyTorch's export); pixels in [0, 1] become (x - mean) / std.
Outputs are logits unless --probabilities; softmax is applied here, because the protocol
carries probabilities. --classes FILE names the classes, one per line. Needs numpy and
onnxruntime.
"""
import argparse
import os
import sys

import numpy as np
import onnxruntime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glimpse_protocol  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--size", default="224x224", help="HxW")
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--mean", default=None)
    parser.add_argument("--std", default=None)
    parser.add_argument("--classes", default=None)
    parser.add_argument("--probabilities", action="store_true",
                        help="the graph's output is probabilities already")
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.lower().split("x"))
    c = args.channels
    mean = np.array([float(v) for v in args.mean.split(",")] if args.mean else [0.0] * c,
                    dtype=np.float32).reshape(1, c, 1, 1)
    std = np.array([float(v) for v in args.std.split(",")] if args.std else [1.0] * c,
                   dtype=np.float32).reshape(1, c, 1, 1)
    session = onnxruntime.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    probe = session.run(None, {input_name: np.zeros((1, c, h, w), np.float32)})[0]
    k = probe.shape[1]
    if args.classes:
        with open(args.classes) as f:
            classes = [line.strip() for line in f if line.strip()]
    else:
        classes = [str(i) for i in range(k)]

    def predict(n, pixels):
        x = np.frombuffer(pixels, dtype="<f4").reshape(n, h, w, c).transpose(0, 3, 1, 2)
        x = ((x - mean) / std).astype(np.float32)
        out = session.run(None, {input_name: np.ascontiguousarray(x)})[0].astype(np.float64)
        if not args.probabilities:
            out = np.exp(out - out.max(axis=1, keepdims=True))
            out /= out.sum(axis=1, keepdims=True)
        return out

    glimpse_protocol.serve(h, w, c, classes, predict)


if __name__ == "__main__":
    main()

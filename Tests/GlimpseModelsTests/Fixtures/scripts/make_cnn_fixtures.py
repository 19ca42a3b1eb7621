"""Reference figures for the CNN tests, from the PyTorch anchor's saved run and a NumPy replay.

Run offline (not in CI), from the repository root, in the anchors virtualenv (NumPy and pandas,
no torch):
    ~/.cache/glimpse-anchors-venv/bin/python Tests/GlimpseModelsTests/Fixtures/scripts/make_cnn_fixtures.py

Reads the anchor's artefacts in ../shared/anchors/python/results (cnn_weights_t1.npz: the initial
and final weights and the 10 epoch orders; cnn_anchor_t{1,2}*.json: the logged per-epoch loss and
accuracy) and writes Tests/GlimpseModelsTests/Fixtures/cnn/:

  train_rows.json        the anchor's 4000-row training list, in its order: perm[:1000] (=
                         split["train"]) then perm[2000:5000], perm = default_rng(0).permutation(5000),
                         and the 1000 split["test"] rows.
  anchor_init.f32        the anchor's initial weights, little-endian float32, in the order
                         0.weight [32,1,2,2], 0.bias, 3.weight [64,32,3,3], 3.bias, 7.weight [10,1600],
                         7.bias (PyTorch state_dict order = Glimpse's Network.parameters order).
  anchor_orders.i16      epoch_orders, 10 x 4000 little-endian int16: positions into train_rows.
  anchor_replay.json     the anchor's logged per-epoch train loss and running accuracy (1 and 2
                         torch threads, both runs), and a NumPy float64 replay of the same run
                         (same initial weights, same batches, PyTorch's Adam): the loss of each of
                         the first 16 batches of epoch 1, and the per-epoch figures of all 10 epochs.

Why a NumPy replay: the anchor logged per-epoch means only, and torch is not installed here, so the
loss after a few batches (what a fast test can check) is computed by an independent float64
implementation (sliding windows + einsum, not im2col). Its epoch figures are checked against the
anchor's log below (the script fails if epoch 1 differs by more than 1e-4), which is what makes its
per-batch losses a fair stand-in for PyTorch's.
"""
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

root = os.getcwd()
out_dir = os.path.join(root, "Tests/GlimpseModelsTests/Fixtures/cnn")
anchors = os.path.normpath(os.path.join(root, "../shared/anchors"))
results = os.path.join(anchors, "python/results")
os.makedirs(out_dir, exist_ok=True)

# --- data: the repository's samples, checked against the anchor's copy -------------------------
X = pd.read_csv(os.path.join(root, "samples/mnist/mnist-imgs-mini.csv.bz2"), index_col=0).to_numpy(np.float64)
y = pd.read_csv(os.path.join(root, "samples/mnist/mnist-lbls-mini.csv.bz2"), index_col=0)["label"].to_numpy(np.int64)
anchor_csv = os.path.join(anchors, "data/mnist5k.csv.gz")
if os.path.exists(anchor_csv):
    df = pd.read_csv(anchor_csv)
    assert np.array_equal(df.iloc[:, :784].to_numpy(np.float64), X), "samples differ from the anchor's pixels"
    assert np.array_equal(df["label"].to_numpy(np.int64), y), "samples differ from the anchor's labels"
with open(os.path.join(root, "samples/mnist/split.json")) as fh:
    split = json.load(fh)
perm = np.random.default_rng(0).permutation(5000)
assert np.array_equal(perm[:1000], split["train"]) and np.array_equal(perm[1000:2000], split["test"])
train = np.concatenate([perm[:1000], perm[2000:]])
test = np.array(split["test"])
assert len(train) == 4000 and len(np.intersect1d(train, test)) == 0
with open(os.path.join(out_dir, "train_rows.json"), "w") as fh:
    json.dump({"description": "CNN anchor split: train = perm[:1000] then perm[2000:5000] (4000 rows, in "
                              "the anchor's order), test = split['test'] (1000 rows); perm = "
                              "numpy.random.default_rng(0).permutation(5000). Row numbers of "
                              "samples/mnist/mnist-*-mini.csv.bz2.",
               "train": train.tolist(), "test": test.tolist()}, fh)

# --- the anchor's weights and orders ------------------------------------------------------------
z = np.load(os.path.join(results, "cnn_weights_t1.npz"))
z2 = np.load(os.path.join(results, "cnn_weights_t2.npz"))
names = ["0_weight", "0_bias", "3_weight", "3_bias", "7_weight", "7_bias"]
for k in names:
    assert np.array_equal(z["init_" + k], z2["init_" + k]), "t1 and t2 initial weights differ"
assert np.array_equal(z["epoch_orders"], z2["epoch_orders"])
init = [z["init_" + k].astype(np.float32) for k in names]
np.concatenate([w.ravel() for w in init]).astype("<f4").tofile(os.path.join(out_dir, "anchor_init.f32"))
orders = z["epoch_orders"].astype(np.int64)
assert orders.shape == (10, 4000) and all(np.array_equal(np.sort(o), np.arange(4000)) for o in orders)
orders.astype("<i2").tofile(os.path.join(out_dir, "anchor_orders.i16"))


def logged(name):
    with open(os.path.join(results, name)) as fh:
        j = json.load(fh)
    return {"loss": [r["train_loss"] for r in j["epochs_log"]],
            "accuracy": [r["train_acc_running"] for r in j["epochs_log"]], "test_acc": j["test_acc"]}


anchor_logs = {"t1": logged("cnn_anchor_t1.json"), "t1_run2": logged("cnn_anchor_t1_run2.json"),
               "t2": logged("cnn_anchor_t2.json"), "t2_run2": logged("cnn_anchor_t2_run2.json")}

# --- NumPy float64 replay: the anchor's network, loss and Adam -----------------------------------
Xf = (X / 255.0).reshape(-1, 1, 28, 28)


def conv_forward(x, w, b):
    win = sliding_window_view(x, w.shape[2:], axis=(2, 3))          # N,C,Ho,Wo,kh,kw
    return np.einsum("nchwij,fcij->nfhw", win, w, optimize=True) + b[None, :, None, None]


def conv_backward(x, w, dout, need_dx):
    win = sliding_window_view(x, w.shape[2:], axis=(2, 3))
    dw = np.einsum("nchwij,nfhw->fcij", win, dout, optimize=True)
    db = dout.sum(axis=(0, 2, 3))
    dx = None
    if need_dx:
        dx = np.zeros_like(x)
        ho, wo = dout.shape[2:]
        for i in range(w.shape[2]):
            for j in range(w.shape[3]):
                dx[:, :, i:i + ho, j:j + wo] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j], optimize=True)
    return dw, db, dx


def pool_forward(x):
    n, c, h, w = x.shape
    ho, wo = h // 2, w // 2
    win = x[:, :, :2 * ho, :2 * wo].reshape(n, c, ho, 2, wo, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ho, wo, 4)
    arg = win.argmax(axis=-1)                                        # first maximum, row-major window
    return np.take_along_axis(win, arg[..., None], -1)[..., 0], (x.shape, arg)


def pool_backward(dout, cache):
    shape, arg = cache
    n, c, ho, wo = dout.shape
    win = np.zeros((n, c, ho, wo, 4))
    np.put_along_axis(win, arg[..., None], dout[..., None], -1)
    dx = np.zeros(shape)
    dx[:, :, :2 * ho, :2 * wo] = win.reshape(n, c, ho, wo, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * ho, 2 * wo)
    return dx


def loss_and_grads(p, xb, yb):
    w0, b0, w3, b3, w7, b7 = p
    a0 = conv_forward(xb, w0, b0); r0 = np.maximum(a0, 0); p0, c0 = pool_forward(r0)
    a3 = conv_forward(p0, w3, b3); r3 = np.maximum(a3, 0); p3, c3 = pool_forward(r3)
    f = p3.reshape(len(xb), -1)
    z = f @ w7.T + b7
    zs = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(zs).sum(axis=1))
    loss = float(np.mean(lse - zs[np.arange(len(yb)), yb]))
    correct = int(np.sum(z.argmax(1) == yb))
    g = np.exp(zs - lse[:, None]); g[np.arange(len(yb)), yb] -= 1; g /= len(yb)
    dw7 = g.T @ f; db7 = g.sum(0); df = g @ w7
    d3 = pool_backward(df.reshape(p3.shape), c3) * (a3 > 0)
    dw3, db3, dp0 = conv_backward(p0, w3, d3, True)
    d0 = pool_backward(dp0, c0) * (a0 > 0)
    dw0, db0, _ = conv_backward(xb, w0, d0, False)
    return loss, correct, [dw0, db0, dw3, db3, dw7, db7]


def replay(epochs, first_batches=16):
    p = [w.astype(np.float64) for w in init]
    m = [np.zeros_like(w) for w in p]; v = [np.zeros_like(w) for w in p]
    lr, b1, b2, eps, step = 1e-3, 0.9, 0.999, 1e-7, 0
    batch_losses, epoch_loss, epoch_acc = [], [], []
    for e in range(epochs):
        total, right = 0.0, 0
        for s in range(0, 4000, 32):
            rows = train[orders[e][s:s + 32]]
            loss, correct, g = loss_and_grads(p, Xf[rows], y[rows])
            if e == 0 and len(batch_losses) < first_batches:
                batch_losses.append(loss)
            total += loss * len(rows); right += correct
            step += 1
            c1, c2 = 1 - b1 ** step, 1 - b2 ** step
            for k in range(len(p)):                                   # torch.optim.Adam, eps after sqrt(v_hat)
                m[k] += (1 - b1) * (g[k] - m[k])
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k]
                p[k] -= (lr / c1) * m[k] / (np.sqrt(v[k]) / np.sqrt(c2) + eps)
        epoch_loss.append(total / 4000); epoch_acc.append(right / 4000)
        print(f"numpy float64 epoch {e + 1}: loss {epoch_loss[-1]:.10f} acc {epoch_acc[-1]:.5f} "
              f"(anchor t1 {anchor_logs['t1']['loss'][e]:.10f} {anchor_logs['t1']['accuracy'][e]:.5f})",
              file=sys.stderr)
    return batch_losses, epoch_loss, epoch_acc, p


t0 = time.perf_counter()
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
batch_losses, epoch_loss, epoch_acc, final = replay(epochs)
assert abs(epoch_loss[0] - anchor_logs["t1"]["loss"][0]) < 1e-4, "NumPy replay disagrees with the anchor"
print(f"replay: {time.perf_counter() - t0:.1f} s", file=sys.stderr)

with open(os.path.join(out_dir, "anchor_replay.json"), "w") as fh:
    json.dump({
        "description": "PyTorch anchor (cnn_anchor.py, seed recipe, 4000 digits): per-epoch train loss "
                       "(batch-size-weighted mean of the batch losses, each before its step) and running "
                       "accuracy, as logged; and a NumPy float64 replay from the same initial weights and "
                       "batch orders with torch.optim.Adam's update (eps=1e-7 after sqrt(v_hat)): the loss "
                       "of each of the first 16 batches of epoch 1 and its per-epoch figures.",
        "parameter_names": ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias"],
        "parameter_counts": [int(w.size) for w in init],
        "anchor": anchor_logs,
        "numpy_float64": {"first_batch_losses": batch_losses, "epoch_loss": epoch_loss,
                          "epoch_accuracy": epoch_acc},
    }, fh, indent=1)

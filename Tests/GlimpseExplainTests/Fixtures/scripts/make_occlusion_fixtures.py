"""captum 0.9's Occlusion on a fixed two-layer softmax network, for GlimpseExplainTests.

Run offline (not in CI) from the repository root, in the torch virtualenv:
    ~/.cache/glimpse-torch-venv/bin/python Tests/GlimpseExplainTests/Fixtures/scripts/make_occlusion_fixtures.py
Writes Tests/GlimpseExplainTests/Fixtures/occlusion.json. The network, in float64, takes an
image as Glimpse stores it (rows, columns, channels interleaved, flattened):
    p = softmax(tanh(x W1 + b1) W2 + b2)
so the Swift test computes the same black box from the weights written here. Each case is an
image, captum's sliding_window_shapes (C, h, w), strides (C, sh, sw) and baseline (a constant,
or each channel's mean), and the attributions captum returns for each class (every channel of a
pixel gets the same value since windows span the channels; the script checks that).
"""
import json

import numpy as np
import torch
from captum.attr import Occlusion

out = "Tests/GlimpseExplainTests/Fixtures/occlusion.json"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(19)
hidden, classes = 6, 3


class Net(torch.nn.Module):
    def __init__(self, w1, b1, w2, b2):
        super().__init__()
        self.w1, self.b1 = torch.tensor(w1), torch.tensor(b1)
        self.w2, self.b2 = torch.tensor(w2), torch.tensor(b2)

    def forward(self, x):  # x: (N, C, H, W) -> rows in Glimpse's (H, W, C) order
        rows = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return torch.softmax(torch.tanh(rows @ self.w1 + self.b1) @ self.w2 + self.b2, dim=1)


cases = []
for name, (h, w, c), window, stride, fill in [
    ("grey, 3×3 windows, stride 3, last row of windows clipped", (7, 6, 1), (3, 3), (3, 3), 0.0),
    ("grey, 1×1 windows, stride 1", (5, 4, 1), (1, 1), (1, 1), 0.0),
    ("colour, 2×3 windows, strides 1×2, fill 0.5", (6, 7, 3), (2, 3), (1, 2), 0.5),
    ("colour, 3×2 windows, stride 2, each channel's mean", (6, 5, 3), (3, 2), (2, 2), "mean"),
]:
    d = h * w * c
    pixels = rng.uniform(0, 1, size=(h, w, c))
    w1 = rng.normal(size=(d, hidden)) * 0.6
    b1 = rng.normal(size=hidden) * 0.2
    w2 = rng.normal(size=(hidden, classes))
    b2 = rng.normal(size=classes) * 0.2
    net = Net(w1, b1, w2, b2)
    x = torch.tensor(pixels).permute(2, 0, 1).unsqueeze(0)
    if fill == "mean":
        baseline = x.mean(dim=(2, 3), keepdim=True).expand_as(x).clone()
    else:
        baseline = fill
    occlusion = Occlusion(net)
    maps = []
    for label in range(classes):
        a = occlusion.attribute(x, sliding_window_shapes=(c,) + window, strides=(c,) + stride,
                                target=label, baselines=baseline)[0].detach().numpy()
        assert np.allclose(a, a[0:1], rtol=0, atol=0), "channels differ"
        maps.append(a[0].ravel().tolist())
    cases.append({"name": name, "height": h, "width": w, "channels": c,
                  "pixels": pixels.ravel().tolist(), "w1": w1.ravel().tolist(), "b1": b1.tolist(),
                  "w2": w2.ravel().tolist(), "b2": b2.tolist(), "hidden": hidden,
                  "classes": classes, "window": list(window), "stride": list(stride),
                  "fill": fill, "attributions": maps})
with open(out, "w") as f:
    json.dump({"cases": cases}, f)
print(out, len(cases), "cases")

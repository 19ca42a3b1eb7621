#!/usr/bin/env python3
"""Gradient-map fixtures from captum (issue #19, item 3).

Writes Tests/GlimpseExplainTests/Fixtures/gradients.json (the cases, scalars and the layout of the
maps) and gradients.f32 (the maps, little-endian float32) from captum 0.9 on PyTorch in float64.

The networks are Glimpse's `.standard` architecture on a 16×16 grey image and its `.resnet`
architecture (stem, three basic blocks with projection shortcuts, global average pooling) on a
40×40 RGB image, 3 classes each. Their weights are not stored: every parameter and running
statistic comes from a 32-bit integer hash of (slot, index) that the Swift test computes the same
way (`GradientFixtureNetwork` in GradientCaptumTests.swift), rounded to float32; slots number
the parameter arrays in Glimpse's `Network.parameters` order, which is PyTorch's
`model.parameters()` order for these modules. The images come from the same hash (8-bit codes,
value k / 255) and are handed to the network rounded to float32, as Glimpse does.

Run with the torch virtualenv:  ~/.cache/glimpse-torch-venv/bin/python make_gradient_fixtures.py
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Saliency

torch.set_default_dtype(torch.float64)
MASK = 0xFFFFFFFF


def hash_unit(salt, index):
    """murmur3's finaliser of a linear mix of (salt, index), as a double in [0, 1)."""
    x = (index * 0x9E3779B9 + salt * 0x7FEB352D + 0x165667B1) & MASK
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & MASK
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & MASK
    x ^= x >> 16
    return x / 4294967296.0


def uniform(salt, count, low, high):
    return np.array([np.float32(low + (high - low) * hash_unit(salt, j)) for j in range(count)])


class Slots:
    """Fills modules' parameters in order, one slot per parameter array."""

    def __init__(self):
        self.slot = 0

    def next(self):
        s = self.slot
        self.slot += 1
        return s

    def fill(self, module):
        with torch.no_grad():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                bound = math.sqrt(6.0 / fan_in)
                w = uniform(self.next(), module.weight.numel(), -bound, bound)
                module.weight.copy_(torch.from_numpy(w.reshape(module.weight.shape)))
                if module.bias is not None:
                    b = uniform(self.next(), module.bias.numel(), -0.1, 0.1)
                    module.bias.copy_(torch.from_numpy(b))
            elif isinstance(module, nn.BatchNorm2d):
                n = module.num_features
                s = self.next()
                module.weight.copy_(torch.from_numpy(uniform(s, n, 0.75, 1.25)))
                t = self.next()
                module.bias.copy_(torch.from_numpy(uniform(t, n, -0.1, 0.1)))
                module.running_mean.copy_(torch.from_numpy(uniform(s + 1000, n, -0.1, 0.1)))
                module.running_var.copy_(torch.from_numpy(uniform(s + 2000, n, 0.5, 1.5)))


class Block(nn.Module):
    """torchvision's BasicBlock with a projection shortcut (Glimpse's `.basicBlock`)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))
        self.out = nn.ReLU()

    def forward(self, x):
        main = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.out(main + self.shortcut(x))


def standard(channels, size, classes):
    """Glimpse's `.standard`: conv 32@3 → ReLU → pool → conv 64@3 → ReLU → pool → dense 128 →
    ReLU → dense; Grad-CAM reads the second ReLU."""
    side = ((size - 2) // 2 - 2) // 2
    layers = [nn.Conv2d(channels, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * side * side, 128),
              nn.ReLU(), nn.Linear(128, classes)]
    model = nn.Sequential(*layers)
    return model, layers[4]


class GAP(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


def resnet(channels, classes):
    """Glimpse's `.resnet`: stem conv 16@3 stride 2 → BN → ReLU → pool, basic blocks of 16, 32,
    64 channels (stride 2), global average pooling, dense; Grad-CAM reads the last block."""
    blocks = [Block(16, 16, 2), Block(16, 32, 2), Block(32, 64, 2)]
    layers = [nn.Conv2d(channels, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
              nn.MaxPool2d(2)] + blocks + [GAP(), nn.Linear(64, classes)]
    return nn.Sequential(*layers), blocks[-1]


def fill(model):
    slots = Slots()
    for module in model.modules():
        slots.fill(module)
    model.eval()


def grey_image(size):
    """An 8-bit grey image: hash noise below 64 with a bright rectangle."""
    codes = []
    for y in range(size):
        for x in range(size):
            k = (int(hash_unit(7777, y * size + x) * 4294967296.0) >> 24) & 0x3F
            if 4 <= y < 12 and 5 <= x < 13:
                k += 150
            codes.append(k)
    return codes


def rgb_image(size):
    """An 8-bit RGB image: hash noise below 128 per channel with a red disc."""
    codes = []
    for y in range(size):
        for x in range(size):
            for c in range(3):
                k = (int(hash_unit(8888 + c, y * size + x) * 4294967296.0) >> 24) & 0x7F
                if c == 0 and (x - 20) ** 2 + (y - 14) ** 2 < 100:
                    k += 120
                codes.append(k)
    return codes


def tensor(codes, size, channels):
    """Codes k → float32(k / 255) → float64 NCHW."""
    values = np.array([np.float32(k / 255.0) for k in codes], dtype=np.float64)
    return torch.from_numpy(values.reshape(1, size, size, channels).transpose(0, 3, 1, 2).copy())


def channel_sum(attribution):
    return attribution.detach().sum(dim=1)[0].numpy().ravel()


blob = []


def add(values):
    offset = sum(len(b) for b in blob)
    blob.append(np.asarray(values, dtype=np.float32))
    return {"offset": offset, "count": len(values)}


def case(name, architecture, model, layer, size, channels, codes, labels, ig_runs):
    x = tensor(codes, size, channels)
    logits = model(x)[0].detach().numpy()
    result = {"name": name, "architecture": architecture, "size": size, "channels": channels,
              "codes": codes, "labels": labels, "logits": logits.tolist(), "labelCases": []}
    for label in labels:
        entry = {"label": label}
        cam = LayerGradCam(model, layer).attribute(x, target=label, relu_attributions=True)
        entry["gradcamLayer"] = add(cam.detach()[0, 0].numpy().ravel())
        entry["gradcamLayerShape"] = list(cam.shape[2:])
        for mode in ("nearest", "bilinear"):
            up = LayerAttribution.interpolate(cam, (size, size), interpolate_mode=mode)
            entry["gradcam_" + mode] = add(up.detach()[0, 0].numpy().ravel())
        sal = Saliency(model).attribute(x, target=label, abs=True)
        entry["saliency"] = add(channel_sum(sal))
        entry["ig"] = []
        for run in ig_runs:
            baseline = torch.full_like(x, run["baseline"])
            ig = IntegratedGradients(model)
            attr, delta = ig.attribute(x, baselines=baseline, target=label, n_steps=run["steps"],
                                       method=run["method"], return_convergence_delta=True)
            entry["ig"].append(dict(run, map=add(channel_sum(attr)), delta=float(delta[0]),
                                    total=float(attr.sum())))
        result["labelCases"].append(entry)
    return result


def main():
    torch.manual_seed(0)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    cases = []
    model, layer = standard(1, 16, 3)
    fill(model)
    cases.append(case("standard-grey16", "standard", model, layer, 16, 1, grey_image(16), [0, 2],
                      [{"steps": 50, "method": "gausslegendre", "baseline": 0.0},
                       {"steps": 20, "method": "riemann_right", "baseline": 0.5}]))
    # No rule with α = 0 from a constant baseline: the baseline's maps are constant, max-pool
    # windows tie there, and which of the tied values gets the gradient is up to rounding.
    model, layer = resnet(3, 3)
    fill(model)
    cases.append(case("resnet-rgb40", "resnet", model, layer, 40, 3, rgb_image(40), [1],
                      [{"steps": 50, "method": "gausslegendre", "baseline": 0.0},
                       {"steps": 16, "method": "riemann_middle", "baseline": 0.25}]))
    with open(os.path.join(out, "gradients.json"), "w") as fh:
        json.dump({"captum": "0.9.0", "torch": torch.__version__, "cases": cases}, fh)
        fh.write("\n")
    np.concatenate(blob).astype("<f4").tofile(os.path.join(out, "gradients.f32"))


if __name__ == "__main__":
    main()

"""PyTorch reference figures for the residual CNN's layers (issue #16, item 1).

Regenerate offline (not in CI), from the repository root, in the torch virtualenv that
../shared/anchors/python/setup_torch.sh installs:
    ~/.cache/glimpse-torch-venv/bin/python Tests/GlimpseModelsTests/Fixtures/make_resnet_fixtures.py
It writes Tests/GlimpseModelsTests/Fixtures/resnet_layers.json (deterministic: torch.manual_seed(16),
float64 throughout, one CPU thread; rerunning gives the same file byte for byte on the same torch).

Layout of the JSON (every array is flat, row-major, in PyTorch's layout):
  {"torch": version, "dtype": "float64", "cases": [case, ...]}
  case = {"name", "kind": "conv" | "batchnorm" | "gap" | "block" | "network", "parameters": {...},
          "input_shape": [N, C, H, W], "input": [...], "output_shape": [...], "output": [...],
          "upstream": [...]       the given dL/d(output) (layer and block cases),
          "grad_input": [...],    dL/d(input) for that upstream,
          "tensors": [{"name", "shape", "values", "grad"}]   the case's parameters in
                                  named_parameters order (= state_dict order without buffers),
          "buffers": [{"name", "shape", "before", "after"}]  BN running_mean / running_var before and
                                  after the training-mode forward (momentum 0.1, unbiased running_var)}
  conv:      weight [out, in, kh, kw] (no bias); parameters: in, out, kernel, stride, padding.
  batchnorm: tensors weight (gamma) [C], bias (beta) [C]; mode "train" (batch statistics, biased
             variance; the output and grads are for that forward) or "eval" (running statistics
             "before", which are non-trivial; buffers unchanged). eps 1e-5, momentum 0.1.
  gap:       AdaptiveAvgPool2d(1), output [N, C, 1, 1].
  block:     one basic residual block (main conv1-bn1-relu-conv2-bn2, shortcut 1x1 conv-bn, ReLU of
             the sum) in training mode; tensors in the order conv1.weight, bn1.weight, bn1.bias,
             conv2.weight, bn2.weight, bn2.bias, shortcut.conv.weight, shortcut.bn.weight,
             shortcut.bn.bias (torchvision's BasicBlock order: main path first, then the shortcut).
  network:   the whole `--architecture resnet` network (stem conv 3x3/2 - BN - ReLU - maxpool 2, three
             stride-2 blocks, global average pooling, Linear) with small widths; "labels";
             "logits_train" (training-mode forward), "loss" (mean cross-entropy of logits_train),
             "grad" of every tensor after one backward of that loss, "buffers" after that forward,
             then "logits_eval" (eval mode, i.e. with the updated running statistics "after").
             No upstream/grad_input (the loss is the head).

Inputs are 8-bit pixels / 255 for the networks (as Glimpse feeds images) and values rounded to 4
decimals elsewhere; weights are He (Kaiming) uniform, fan_in, rounded to 4 decimals so the file
stays small (the rounded decimals are exactly the doubles torch used). BN gamma, beta and the
Linear bias are set to small non-trivial values (gamma = 1 + U(-0.3, 0.3), beta = U(-0.2, 0.2))
rather than the 1 / 0 of initialisation, so that a mix-up of gamma and beta, or a dropped bias,
changes the figures. Derived values (outputs, gradients, running statistics) are written with 15
significant digits.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
torch.manual_seed(16)

OUT = os.path.join(os.getcwd(), "Tests/GlimpseModelsTests/Fixtures/resnet_layers.json")


def r4(t):
    """Rounds in place to 4 decimals: the JSON then holds short numbers that parse to the same doubles."""
    with torch.no_grad():
        t.copy_(torch.tensor([float(f"{v:.4f}") for v in t.flatten().tolist()]).reshape(t.shape))
    return t


def short(t):
    return [float(f"{v:.4f}") for v in t.detach().flatten().tolist()]


def full(t):
    return [float(f"{v:.15g}") for v in t.detach().flatten().tolist()]


def he_uniform(w):
    """He uniform, fan_in (gain sqrt(2)): bound sqrt(6 / fan_in), as Glimpse's initialiser."""
    nn.init.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu")
    return r4(w)


def bn_affine(bn):
    with torch.no_grad():
        bn.weight.copy_(1 + (torch.rand(bn.num_features) - 0.5) * 0.6)
        bn.bias.copy_((torch.rand(bn.num_features) - 0.5) * 0.4)
    r4(bn.weight)
    r4(bn.bias)


def rand_input(shape):
    return r4(torch.rand(shape) * 2 - 1)


def pixel_input(shape):
    return torch.randint(0, 256, shape).double() / 255


def upstream_for(y):
    return r4(torch.randn(y.shape))


def tensors(module):
    return [{"name": n, "shape": list(p.shape), "values": short(p),
             "grad": full(p.grad) if p.grad is not None else None}
            for n, p in module.named_parameters()]


def bn_buffers(module, before):
    out = []
    for name, b in module.named_buffers():
        if name.endswith("num_batches_tracked"):
            continue
        out.append({"name": name, "shape": list(b.shape), "before": full(before[name]), "after": full(b)})
    return out


def snapshot_buffers(module):
    return {n: b.detach().clone() for n, b in module.named_buffers()}


def run_layer(name, kind, parameters, module, x, train=True):
    module.train(train)
    before = snapshot_buffers(module)
    x = x.clone().requires_grad_(True)
    y = module(x)
    g = upstream_for(y)
    y.backward(g)
    case = {"name": name, "kind": kind, "parameters": parameters,
            "input_shape": list(x.shape), "input": short(x) if x.dtype == torch.float64 else None,
            "output_shape": list(y.shape), "output": full(y), "upstream": short(g),
            "grad_input": full(x.grad), "tensors": tensors(module)}
    buffers = bn_buffers(module, before)
    if buffers:
        case["buffers"] = buffers
    return case


def conv_case(name, cin, cout, k, stride, padding, shape):
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
    he_uniform(conv.weight)
    params = {"in": cin, "out": cout, "kernel": k, "stride": stride, "padding": padding, "bias": False}
    return run_layer(name, "conv", params, conv, rand_input(shape))


def bn_case(name, mode, shape):
    bn = nn.BatchNorm2d(shape[1], eps=1e-5, momentum=0.1)
    bn_affine(bn)
    with torch.no_grad():  # non-trivial running statistics so that eval mode is not nearly identity
        bn.running_mean.copy_(r4(torch.rand(shape[1]) - 0.5))
        bn.running_var.copy_(r4(0.5 + torch.rand(shape[1])))
    params = {"channels": shape[1], "eps": 1e-5, "momentum": 0.1, "mode": mode}
    return run_layer(name, "batchnorm", params, bn, rand_input(shape), train=(mode == "train"))


class BasicBlock(nn.Module):
    """Main path conv3x3/s - BN - ReLU - conv3x3/1 - BN; shortcut conv1x1/s - BN; ReLU of the sum."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        self.shortcut.add_module("conv", nn.Conv2d(cin, cout, 1, stride=stride, padding=0, bias=False))
        self.shortcut.add_module("bn", nn.BatchNorm2d(cout))

    def forward(self, x):
        main = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(main + self.shortcut(x))


class ResNet(nn.Module):
    """Glimpse's `--architecture resnet` (see the brief in issue #16): widths w0 and (w1, w2, w3)."""

    def __init__(self, channels, classes, w0, widths):
        super().__init__()
        self.stem = nn.Sequential()
        self.stem.add_module("conv", nn.Conv2d(channels, w0, 3, stride=2, padding=1, bias=False))
        self.stem.add_module("bn", nn.BatchNorm2d(w0))
        blocks, cin = [], w0
        for w in widths:
            blocks.append(BasicBlock(cin, w, 2))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 2)  # floor mode
        x = self.blocks(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


def init_model(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            he_uniform(m.weight)
        if isinstance(m, nn.Linear):
            with torch.no_grad():
                m.bias.copy_((torch.rand(m.out_features) - 0.5) * 0.2)
            r4(m.bias)
        if isinstance(m, nn.BatchNorm2d):
            bn_affine(m)


def block_case(name, cin, cout, stride, shape):
    block = BasicBlock(cin, cout, stride)
    init_model(block)
    params = {"in": cin, "out": cout, "stride": stride, "mode": "train", "eps": 1e-5, "momentum": 0.1}
    return run_layer(name, "block", params, block, rand_input(shape))


def network_case(name, shape, classes, w0, widths):
    model = ResNet(shape[1], classes, w0, widths)
    init_model(model)
    x = pixel_input(shape)
    labels = torch.randint(0, classes, (shape[0],))
    before = snapshot_buffers(model)
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    model.eval()
    with torch.no_grad():
        logits_eval = model(x)
    pixels = [int(round(v * 255)) for v in x.flatten().tolist()]
    return {"name": name, "kind": "network",
            "parameters": {"channels": shape[1], "classes": classes, "stem": w0, "widths": list(widths),
                           "eps": 1e-5, "momentum": 0.1},
            "input_shape": list(shape), "input_bytes": pixels,
            "input_note": "input = input_bytes / 255 (NCHW)",
            "labels": labels.tolist(), "logits_train": full(logits), "loss": float(f"{loss.item():.15g}"),
            "logits_eval": full(logits_eval), "tensors": tensors(model),
            "buffers": bn_buffers(model, before)}


def gap_case(name, shape):
    return run_layer(name, "gap", {}, nn.AdaptiveAvgPool2d(1), rand_input(shape))


cases = [
    conv_case("conv3x3_s2_p1_9x9", 3, 4, 3, 2, 1, (2, 3, 9, 9)),
    conv_case("conv3x3_s2_p1_8x7", 3, 4, 3, 2, 1, (2, 3, 8, 7)),
    conv_case("conv1x1_s2_p0_9x9", 3, 4, 1, 2, 0, (2, 3, 9, 9)),
    conv_case("conv1x1_s2_p0_8x7", 3, 4, 1, 2, 0, (2, 3, 8, 7)),
    conv_case("conv3x3_s1_p1_8to8", 8, 8, 3, 1, 1, (2, 8, 6, 7)),
    bn_case("batchnorm_train", "train", (2, 4, 5, 5)),
    bn_case("batchnorm_eval", "eval", (2, 4, 5, 5)),
    gap_case("global_average_pool", (2, 4, 5, 3)),
    block_case("basic_block_projection", 4, 8, 2, (2, 4, 8, 7)),
    network_case("resnet_grey_32x32", (2, 1, 32, 32), 3, 4, (8, 8, 8)),
    network_case("resnet_rgb_33x31", (2, 3, 33, 31), 3, 4, (8, 8, 8)),
]

doc = {"description": "PyTorch float64 references for the residual CNN layers; see "
                      "make_resnet_fixtures.py for the layout and how to regenerate.",
       "torch": torch.__version__, "dtype": "float64", "cases": cases}
with open(OUT, "w") as fh:
    json.dump(doc, fh, separators=(",", ":"))
    fh.write("\n")
print(f"wrote {OUT}: {os.path.getsize(OUT) / 1024:.0f} KB, {len(cases)} cases")

# --- self-check: rebuild each network and conv from the written numbers alone ----------------------
with open(OUT) as fh:
    back = json.load(fh)["cases"]
for case in back:
    if case["kind"] == "conv":
        p = case["parameters"]
        x = torch.tensor(case["input"]).reshape(case["input_shape"])
        w = torch.tensor(case["tensors"][0]["values"]).reshape(case["tensors"][0]["shape"])
        y = F.conv2d(x, w, stride=p["stride"], padding=p["padding"])
        assert torch.allclose(y.flatten(), torch.tensor(case["output"]), rtol=1e-12, atol=1e-13), case["name"]
    if case["kind"] == "network":
        p = case["parameters"]
        model = ResNet(p["channels"], p["classes"], p["stem"], p["widths"])
        with torch.no_grad():
            for (n, t), stored in zip(model.named_parameters(), case["tensors"]):
                assert n == stored["name"]
                t.copy_(torch.tensor(stored["values"]).reshape(stored["shape"]))
        x = torch.tensor(case["input_bytes"]).double().reshape(case["input_shape"]) / 255
        logits = model.train()(x)
        assert torch.allclose(logits.flatten(), torch.tensor(case["logits_train"]), rtol=1e-12, atol=1e-13)
        F.cross_entropy(logits, torch.tensor(case["labels"])).backward()
        for (n, t), stored in zip(model.named_parameters(), case["tensors"]):
            assert torch.allclose(t.grad.flatten(), torch.tensor(stored["grad"]), rtol=1e-10, atol=1e-13), n
        logits = model.eval()(x)
        assert torch.allclose(logits.flatten(), torch.tensor(case["logits_eval"]), rtol=1e-12, atol=1e-13)
print("self-check: convolutions and networks rebuilt from the JSON agree to 1e-12")

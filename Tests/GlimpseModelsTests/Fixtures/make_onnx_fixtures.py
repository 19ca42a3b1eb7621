"""onnxruntime reference figures for Glimpse's ONNX runner (issue #18, part 1).

Regenerate offline (not in CI), from the repository root, in the torch virtualenv with onnx and
onnxruntime installed (`~/.cache/glimpse-torch-venv/bin/pip install onnx onnxruntime`):
    ~/.cache/glimpse-torch-venv/bin/python Tests/GlimpseModelsTests/Fixtures/make_onnx_fixtures.py
It writes Tests/GlimpseModelsTests/Fixtures/onnx/*.onnx and onnx/expected.json. Weights come
from torch.manual_seed(18), inputs from numpy's default_rng(18) rounded to multiples of 1/64 (exact
in float32, short in JSON); onnxruntime runs on the CPU in
float32 with one thread.

Models (exported by torch.onnx.export with the TorchScript exporter, dynamo=False, opset 17, the
batch dimension symbolic "N"):
  seed       the knee study's digit net: conv 3x3 (1->8), ReLU, maxpool 2, conv 3x3 (8->16), ReLU,
             maxpool 2, flatten, linear (->10); input N x 1 x 28 x 28.
  resnet     ResNet-18-shaped: stem conv 7x7/2 (3->8) + BN + ReLU + maxpool 3/2, a BasicBlock 8->8,
             a BasicBlock 8->16 with stride 2 and a 1x1/2 projection shortcut (conv + BN), residual
             Add, a final BatchNorm2d + ReLU (not after a conv, so the exporter cannot fold it and
             the graph keeps a BatchNormalization node), global average pool, flatten, linear
             (->5); input N x 3 x 64 x 64. The exporter folds the other BNs into their convs.
  mobilenet  a MobileNetV2-shaped net: stem conv 3x3/2 (3->8) + BN + ReLU6; an inverted residual
             block (1x1 expand 8->48, BN, ReLU6, depthwise 3x3 group 48, BN, ReLU6, 1x1 project
             48->8, BN, Add); global average pool, flatten, linear (->4); input N x 3 x 32 x 32.
             ReLU6 exports as Clip with min/max inputs.
  keras      a Keras-style NHWC net: input N x 32 x 32 x 3, a Transpose to NCHW inside the graph,
             conv 3x3 (3->8), ReLU, global average pool, flatten, Gemm (->3), Softmax at the end.
  viewflat   conv 3x3/2 (3->4), ReLU, x.view(x.size(0), -1), linear (->3) on N x 3 x 16 x 16: the
             exporter computes the flattened shape in the graph (Shape, Gather, Unsqueeze, Concat,
             Reshape on int64 tensors).
  fixed_batch  the same network exported without a dynamic batch axis: input 1 x 3 x 16 x 16,
             a Reshape to a constant shape; onnxruntime scores its classifier images one at a time.
  mobilenet_any_size  the mobilenet network (same weights) exported with height and width symbolic
             as well (no entry in expected.json: it must score as mobilenet.onnx does).
  erf        a hand-built graph (onnx.helper) with an Erf node between two Relus: Glimpse
             supports no Erf, so loading it must fail naming the op and the node.
Single-operator cases ("ops"): hand-built one-node graphs (onnx.helper, opset 17 unless stated)
over random inputs, for the operators and attributes the exported models do not reach.

expected.json:
  {"onnxruntime", "torch", "onnx", "models": [model], "ops": [op]}
  model = {"name", "file", "input_name", "input_shape" [N, ...], "input" (flat float32),
           "output_shape", "output" (flat, float32 as onnxruntime returned it), "ends_in_softmax",
           "classifier": {"mean", "std", "scale", "bgr", "image_shape" [H, W, C],
                          "images" (flat bytes, N x H x W x C), "probabilities" (flat N x K)}}
    The classifier block is the whole Glimpse path: 8-bit images k/255 in H x W x C, preprocessed
    as x = (k/255 * scale - mean[c]) / std[c] in float64, cast to float32, laid out as the graph
    says (channels reversed when bgr), run, softmax applied when the graph has none.
  op = {"name", "file", "inputs": [{"name", "shape", "values", "type": "float"|"int64"}],
        "outputs": [{"shape", "values"}]}
"""

import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "onnx")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(18)
rng = np.random.default_rng(18)
torch.set_num_threads(1)


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def floats(array):
    return [float(v) for v in np.asarray(array, dtype=np.float32).ravel()]


def quantized(values):
    """Multiples of 1/64: exact in float32 and short in JSON."""
    return np.asarray(np.round(np.asarray(values) * 64) / 64, dtype=np.float32)


def randomize_bn(module):
    """Non-trivial BN parameters and running statistics, so a mix-up changes the figures."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.weight.copy_(1 + 0.6 * (torch.rand(c) - 0.5))
                m.bias.copy_(0.4 * (torch.rand(c) - 0.5))
                m.running_mean.copy_(0.2 * (torch.rand(c) - 0.5))
                m.running_var.copy_(0.5 + torch.rand(c))


class Seed(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 10))

    def forward(self, x):
        return self.features(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.final_bn = nn.BatchNorm2d(16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        x = torch.relu(self.final_bn(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, c, expand):
        super().__init__()
        h = c * expand
        self.body = nn.Sequential(
            nn.Conv2d(c, h, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, h, 3, 1, 1, groups=h, bias=False), nn.BatchNorm2d(h), nn.ReLU6(),
            nn.Conv2d(h, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.body(x)


class MobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.block = InvertedResidual(8, 6)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.block(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class KerasStyle(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        x = torch.relu(self.conv(x))
        x = torch.flatten(x.mean(dim=(2, 3), keepdim=True), 1)
        return torch.softmax(self.fc(x), dim=1)


def export(model, name, shape, ends_in_softmax, classifier, dynamic=True):
    model.eval()
    randomize_bn(model)
    path = os.path.join(OUT, name + ".onnx")
    batch = 2 if dynamic else 1
    example = torch.randn(batch, *shape)
    torch.onnx.export(
        model, (example,), path, dynamo=False, opset_version=17, input_names=["input"],
        output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}} if dynamic else None)
    onnx.checker.check_model(onnx.load(path))
    run = session(path)
    x = quantized(rng.standard_normal((batch, *shape)))
    (y,) = run.run(None, {"input": x})
    with torch.no_grad():
        torch_y = model(torch.from_numpy(x)).numpy()
    print(f"{name}: {os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in onnx.load(path).graph.node})}, "
          f"|ort - torch| {np.abs(y - torch_y).max():.2e}")
    entry = {"name": name, "file": name + ".onnx", "input_name": "input", "input_shape": [batch, *shape],
             "input": floats(x), "output_shape": list(y.shape), "output": floats(y),
             "ends_in_softmax": ends_in_softmax}
    if classifier is not None:
        mean, std, scale, bgr, nhwc = classifier
        if nhwc:
            h, w, c = shape
        else:
            c, h, w = shape
        images = rng.integers(0, 256, size=(2, h, w, c), dtype=np.uint8)
        pixels = images.astype(np.float64) / 255 * scale
        if bgr:
            pixels = pixels[..., ::-1]
        pixels = (pixels - np.array(mean)) / np.array(std)
        tensor = pixels.astype(np.float32)
        if not nhwc:
            tensor = np.ascontiguousarray(tensor.transpose(0, 3, 1, 2))
        # A graph with a fixed batch of 1 takes the images one at a time.
        scores = np.concatenate([run.run(None, {"input": tensor[k:k + batch]})[0] for k in range(0, 2, batch)])
        scores = scores.astype(np.float64)
        if not ends_in_softmax:
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores /= scores.sum(axis=1, keepdims=True)
        entry["classifier"] = {
            "mean": mean, "std": std, "scale": scale, "bgr": bgr, "image_shape": [h, w, c],
            "images": [int(v) for v in images.ravel()], "probabilities": [float(v) for v in scores.ravel()]}
    return entry


models = [
    export(Seed(), "seed", (1, 28, 28), False, ([0.1307], [0.3081], 1.0, False, False)),
    export(ResNet(), "resnet", (3, 64, 64), False,
           ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 1.0, False, False)),
    export(mobile := MobileNet(), "mobilenet", (3, 32, 32), False,
           ([103.939, 116.779, 123.68], [1.0, 1.0, 1.0], 255.0, True, False)),
    export(KerasStyle(), "keras", (32, 32, 3), True, ([0.5, 0.5, 0.5], [0.5, 0.5, 0.5], 1.0, False, True)),
]

# A graph with an operator Glimpse lacks (Erf) between two it has.
erf_graph = helper.make_graph(
    [helper.make_node("Relu", ["x"], ["a"], name="first_relu"),
     helper.make_node("Erf", ["a"], ["b"], name="gelu_erf"),
     helper.make_node("Relu", ["b"], ["y"], name="second_relu")],
    "erf", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
erf_model = helper.make_model(erf_graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="glimpse-fixtures")
erf_model.ir_version = 8
onnx.save(erf_model, os.path.join(OUT, "erf.onnx"))


# Single-operator graphs.
ops = []


def op_case(name, op, inputs, attributes=None, opset=17, initializers=None, outputs=1):
    """inputs: list of (name, array); int64 arrays become int64 inputs. initializers likewise but
    stored in the graph (for inputs that must be constant, as Reshape's shape)."""
    initializers = initializers or []
    node_inputs = [n for n, _ in inputs] + [n for n, _ in initializers]
    if any(n == "" for n, _ in initializers):
        raise ValueError("empty name")
    node = helper.make_node(op, node_inputs, [f"y{i}" for i in range(outputs)], name=name, **(attributes or {}))
    def info(n, a):
        t = TensorProto.INT64 if a.dtype == np.int64 else TensorProto.FLOAT
        return helper.make_tensor_value_info(n, t, list(a.shape))
    graph = helper.make_graph(
        [node], name, [info(n, a) for n, a in inputs],
        [helper.make_empty_tensor_value_info(f"y{i}") for i in range(outputs)],
        initializer=[onnx.numpy_helper.from_array(a, n) for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="glimpse-fixtures")
    model.ir_version = 8
    path = os.path.join(OUT, "ops", name + ".onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)
    results = session(path).run(None, {n: a for n, a in inputs})
    ops.append({
        "name": name, "file": "ops/" + name + ".onnx",
        "inputs": [{"name": n, "shape": list(a.shape), "type": "int64" if a.dtype == np.int64 else "float",
                    "values": [int(v) for v in a.ravel()] if a.dtype == np.int64 else floats(a)}
                   for n, a in inputs],
        "outputs": [{"shape": list(r.shape), "values": [float(v) for v in np.asarray(r, dtype=np.float64).ravel()]}
                    for r in results]})


def r(*shape):
    return quantized(rng.standard_normal(shape))


def i64(values):
    return np.array(values, dtype=np.int64)


op_case("conv_pads_strides_dilations", "Conv", [("x", r(2, 3, 9, 8)), ("w", r(4, 3, 3, 2)), ("b", r(4))],
        {"strides": [2, 1], "pads": [1, 0, 2, 1], "dilations": [1, 2]})
op_case("conv_same_upper", "Conv", [("x", r(1, 2, 7, 6)), ("w", r(3, 2, 4, 3))], {"auto_pad": "SAME_UPPER", "strides": [2, 2]})
op_case("conv_same_lower", "Conv", [("x", r(1, 2, 7, 6)), ("w", r(3, 2, 4, 3))], {"auto_pad": "SAME_LOWER", "strides": [2, 2]})
op_case("conv_valid", "Conv", [("x", r(1, 2, 7, 6)), ("w", r(3, 2, 3, 3))], {"auto_pad": "VALID"})
op_case("conv_groups", "Conv", [("x", r(2, 4, 6, 6)), ("w", r(6, 2, 3, 3)), ("b", r(6))], {"group": 2, "pads": [1, 1, 1, 1]})
op_case("conv_depthwise_multiplier", "Conv", [("x", r(2, 3, 7, 7)), ("w", r(6, 1, 3, 3))], {"group": 3, "strides": [2, 2], "pads": [1, 1, 1, 1]})
op_case("batchnorm", "BatchNormalization",
        [("x", r(2, 3, 4, 5)), ("scale", r(3)), ("bias", r(3)), ("mean", r(3)), ("var", np.abs(r(3)) + 0.5)],
        {"epsilon": 1e-3})
op_case("leaky_relu", "LeakyRelu", [("x", r(2, 3, 4))], {"alpha": 0.1})
op_case("clip_opset10_attributes", "Clip", [("x", r(3, 7))], {"min": -0.5, "max": 0.7}, opset=10)
op_case("clip_min_only", "Clip", [("x", r(3, 7)), ("min", np.array(-0.25, dtype=np.float32))])
op_case("sigmoid", "Sigmoid", [("x", r(3, 5))])
op_case("hard_sigmoid", "HardSigmoid", [("x", 3 * r(3, 5))], {"alpha": 0.25, "beta": 0.4})
op_case("hard_swish", "HardSwish", [("x", 4 * r(3, 5))])
op_case("tanh", "Tanh", [("x", r(3, 5))])
op_case("maxpool_pads_ceil", "MaxPool", [("x", r(2, 2, 7, 8))], {"kernel_shape": [3, 2], "strides": [2, 2], "pads": [1, 0, 1, 1], "ceil_mode": 1})
op_case("maxpool_same_upper", "MaxPool", [("x", r(1, 2, 7, 7))], {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"})
op_case("avgpool_exclude_pad", "AveragePool", [("x", r(2, 2, 7, 8))], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]})
op_case("avgpool_include_pad", "AveragePool", [("x", r(2, 2, 7, 8))], {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1})
op_case("global_average_pool", "GlobalAveragePool", [("x", r(2, 3, 5, 4))])
op_case("gemm_trans_alpha_beta", "Gemm", [("a", r(4, 3)), ("b", r(5, 4)), ("c", r(5))], {"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0})
op_case("gemm_plain", "Gemm", [("a", r(3, 4)), ("b", r(4, 5))])
op_case("matmul_batched_broadcast", "MatMul", [("a", r(2, 1, 3, 4)), ("b", r(3, 4, 5))])
op_case("matmul_vector", "MatMul", [("a", r(4)), ("b", r(2, 4, 3))])
op_case("add_broadcast", "Add", [("a", r(2, 3, 4, 5)), ("b", r(3, 1, 1))])
op_case("sub_broadcast", "Sub", [("a", r(3, 1, 5)), ("b", r(2, 1, 4, 1))])
op_case("mul_scalar", "Mul", [("a", r(2, 3)), ("b", r())])
op_case("div_broadcast", "Div", [("a", r(2, 3, 4)), ("b", np.abs(r(4)) + 0.5)])
op_case("flatten_axis2", "Flatten", [("x", r(2, 3, 4, 5))], {"axis": 2})
op_case("flatten_axis0", "Flatten", [("x", r(2, 3, 4))], {"axis": 0})
op_case("reshape_zero_minus_one", "Reshape", [("x", r(2, 3, 4, 5))], initializers=[("shape", i64([0, -1, 5]))])
op_case("transpose_perm", "Transpose", [("x", r(2, 3, 4, 5))], {"perm": [0, 2, 3, 1]})
op_case("transpose_default", "Transpose", [("x", r(2, 3, 4))])
op_case("concat_axis1", "Concat", [("a", r(2, 3, 4)), ("b", r(2, 1, 4)), ("c", r(2, 2, 4))], {"axis": 1})
op_case("concat_negative_axis", "Concat", [("a", r(2, 3)), ("b", r(2, 2))], {"axis": -1})
op_case("softmax_opset13_axis1", "Softmax", [("x", r(2, 3, 4))], {"axis": 1})
op_case("softmax_opset11_axis1", "Softmax", [("x", r(2, 3, 4))], {"axis": 1}, opset=11)
op_case("pad_constant", "Pad", [("x", r(2, 3, 4))], initializers=[("pads", i64([0, 1, 2, 0, 2, 1])), ("value", np.array(0.5, dtype=np.float32))])
op_case("pad_negative", "Pad", [("x", r(2, 3, 4))], initializers=[("pads", i64([0, -1, 1, 0, 0, -2]))])
op_case("gather_axis1", "Gather", [("x", r(3, 5, 2))], {"axis": 1}, initializers=[("indices", i64([[4, 0], [-1, 2]]))])
op_case("unsqueeze_input_axes", "Unsqueeze", [("x", r(3, 4))], initializers=[("axes", i64([0, -1]))])
op_case("squeeze_input_axes", "Squeeze", [("x", r(3, 1, 4, 1))], initializers=[("axes", i64([1]))])
op_case("squeeze_all", "Squeeze", [("x", r(1, 3, 1, 4))])
op_case("unsqueeze_attribute_axes", "Unsqueeze", [("x", r(3, 4))], {"axes": [1]}, opset=11)
op_case("reduce_mean_keepdims", "ReduceMean", [("x", r(2, 3, 4, 5))], {"axes": [2, 3], "keepdims": 1})
op_case("reduce_mean_opset18_input_axes", "ReduceMean", [("x", r(2, 3, 4))], {"keepdims": 0}, opset=18,
        initializers=[("axes", i64([1]))])
op_case("shape_slice", "Shape", [("x", r(2, 3, 4, 5))], {"start": 1, "end": -1})
op_case("identity", "Identity", [("x", r(2, 3))])
op_case("dropout", "Dropout", [("x", r(2, 3))])



class ViewFlat(nn.Module):
    """Flattened with x.view(x.size(0), -1): with a dynamic batch the exporter computes the shape
    in the graph (Shape, Gather, Unsqueeze, Concat, Reshape on int64 tensors); without one it
    fixes the batch at 1 (a Reshape to a constant [1, -1])."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, 2, 1)
        self.fc = nn.Linear(4 * 8 * 8, 3)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


# Exported after the single-operator cases, so that their random inputs stay as they were.
models.append(export(ViewFlat(), "viewflat", (3, 16, 16), False, ([0.5, 0.5, 0.5], [0.25, 0.25, 0.25], 1.0, False, False)))
models.append(export(ViewFlat(), "fixed_batch", (3, 16, 16), False,
                     ([0.5, 0.5, 0.5], [0.25, 0.25, 0.25], 1.0, False, False), dynamic=False))
# The MobileNet-shaped network again (the same weights), with height and width symbolic too:
# Glimpse needs the image size at import. Only the file is written; the tests compare it with
# mobilenet.onnx.
torch.onnx.export(
    mobile, (torch.randn(2, 3, 32, 32),), os.path.join(OUT, "mobilenet_any_size.onnx"), dynamo=False,
    opset_version=17, input_names=["input"], output_names=["output"],
    dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "output": {0: "N"}})
any_size = session(os.path.join(OUT, "mobilenet_any_size.onnx"))
probe = quantized(np.random.default_rng(7).standard_normal((2, 3, 32, 32)))
assert np.allclose(any_size.run(None, {"input": probe})[0], session(os.path.join(OUT, "mobilenet.onnx")).run(None, {"input": probe})[0], atol=1e-6)

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump({"onnxruntime": ort.__version__, "torch": torch.__version__, "onnx": onnx.__version__,
               "models": models, "ops": ops}, f, separators=(",", ":"))
    f.write("\n")
print("wrote", len(models), "models,", len(ops), "operator cases")

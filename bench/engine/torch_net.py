"""A net of libhwnas's text spec (doc/formats/net.md) as a PyTorch module,
for bench/engine: the nets hwnas_net_format writes (expanded primitives,
one node a line) with the IR's defaults and semantics (average pooling
leaves padding out of the divisor, linear flattens its input, prelu starts
at 0.25). He-normal weights and zero biases, as torch_ref.py. A final
softmax is dropped: the loss is applied to the logits, as in libhwnas."""
import re

import torch
import torch.nn as nn

LINE = re.compile(r"^(?:([A-Za-z_][\w.]*)\s*=\s*)?([a-z_0-9]+)\s*(?:\((.*)\))?$")


def parse(text):
    """[(name, op, input names, attrs)] in order."""
    nodes = []
    for raw in text.splitlines():
        line = raw.split("#")[0].strip()
        if not line or line.startswith("hwnas-net"):
            continue
        m = LINE.match(line)
        if not m:
            raise ValueError(f"cannot read: {line}")
        name, op, args = m.groups()
        ins, at = [], {}
        for a in (args or "").split(","):
            a = a.strip()
            if not a:
                continue
            if "=" in a:
                k, v = a.split("=", 1)
                at[k.strip()] = v.strip()
            else:
                ins.append(a)
        if name is None:
            name = f"_{len(nodes)}"
        if not ins and op != "input" and nodes:
            ins = [nodes[-1][0]]
        nodes.append((name, op, ins, at))
    return nodes


def _window(at, k_default=None, pool=False):
    """kernel, stride (default 1, pools: the kernel), padding, dilation"""
    def get(key, axis, default):
        return at.get(key + axis, at.get(key, default))
    k = (int(get("k", "h", k_default)), int(get("k", "w", k_default)))
    s = (int(get("s", "h", k[0] if pool else 1)), int(get("s", "w", k[1] if pool else 1)))
    d = (int(get("d", "h", 1)), int(get("d", "w", 1)))
    p = []
    for i, ax in enumerate("hw"):
        v = at.get("p" + ax, at.get("pad", "0"))
        p.append(d[i] * (k[i] - 1) // 2 if v == "same" else int(v))
    return k, s, tuple(p), d


class SpecNet(nn.Module):
    def __init__(self, text):
        super().__init__()
        self.nodes = parse(text)
        if self.nodes[-1][1] == "softmax":
            self.nodes = self.nodes[:-1]
        self.layers = nn.ModuleDict()
        shape = {}
        for name, op, ins, at in self.nodes:
            key = name.replace(".", "__")
            if op == "input":
                shape[name] = tuple(int(v) for v in at["shape"].split("x"))
                continue
            c, h, w = shape[ins[0]]
            out = (c, h, w)
            mod = None
            if op in ("conv", "dwconv"):
                if op == "conv":
                    cout, groups = int(at["out"]), int(at.get("groups", 1))
                else:
                    cout, groups = c * int(at.get("mult", 1)), c
                k, s, p, d = _window(at, 1 if op == "conv" else None)
                mod = nn.Conv2d(c, cout, k, s, p, d, groups, bias=at.get("bias", "1") != "0")
                oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
                ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
                out = (cout, oh, ow)
            elif op in ("maxpool", "avgpool"):
                k, s, p, _ = _window(at, pool=True)
                mod = (nn.MaxPool2d(k, s, p) if op == "maxpool"
                       else nn.AvgPool2d(k, s, p, count_include_pad=False))
                out = (c, (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1)
            elif op == "gap":
                mod = nn.AdaptiveAvgPool2d(1)
                out = (c, 1, 1)
            elif op == "bn":
                mod = nn.BatchNorm2d(c)
            elif op == "relu":
                mod = nn.ReLU()
            elif op == "relu6":
                mod = nn.ReLU6()
            elif op == "prelu":
                mod = nn.PReLU(c, 0.25)
            elif op == "elu":
                mod = nn.ELU(float(at.get("alpha", 1)))
            elif op == "leaky_relu":
                mod = nn.LeakyReLU(float(at.get("slope", 0.01)))
            elif op == "sigmoid":
                mod = nn.Sigmoid()
            elif op == "swish":
                mod = nn.SiLU()
            elif op == "hard_swish":
                mod = nn.Hardswish()
            elif op == "hard_sigmoid":
                mod = nn.Hardsigmoid()
            elif op == "tanh":
                mod = nn.Tanh()
            elif op == "dropout":
                mod = nn.Dropout(float(at.get("p", 0.5)))
            elif op == "linear":
                mod = nn.Linear(c * h * w, int(at["out"]), bias=at.get("bias", "1") != "0")
                out = (int(at["out"]), 1, 1)
            elif op == "flatten":
                out = (c * h * w, 1, 1)
            elif op == "concat":
                out = (sum(shape[i][0] for i in ins), h, w)
            elif op not in ("add", "mul", "zero"):
                raise ValueError(f"op {op} is not translated")
            if mod is not None:
                self.layers[key] = mod
            shape[name] = out
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        v = {}
        for name, op, ins, at in self.nodes:
            key = name.replace(".", "__")
            if op == "input":
                v[name] = x
            elif op == "add":
                y = v[ins[0]]
                for i in ins[1:]:
                    y = y + v[i]
                v[name] = y
            elif op == "mul":
                v[name] = v[ins[0]] * v[ins[1]]
            elif op == "concat":
                v[name] = torch.cat([v[i] for i in ins], 1)
            elif op == "zero":
                v[name] = torch.zeros_like(v[ins[0]])
            elif op == "flatten":
                v[name] = v[ins[0]].flatten(1)
            elif op == "linear":
                v[name] = self.layers[key](v[ins[0]].flatten(1))
            else:
                v[name] = self.layers[key](v[ins[0]])
        return v[self.nodes[-1][0]]

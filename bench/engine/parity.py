#!/usr/bin/env python3
"""Step-by-step parity check of the fp32 engine against PyTorch on the
reference CNN (examples/nets/fmnist_ref.net): both start from the SAME
initial weights (hwnas's, copied into torch) and see the SAME mini-batches
(hwnas's shuffle order, its normalised images), with SGD momentum 0.9,
lr 0.05 constant, batch 128. Prints the loss of both sides per step and the
largest weight difference after the last step.

usage: parity.py [--steps 50] [--seed 1] [--init he|uniform]
Needs the built library (build/lib) and python3-torch; run from the
repository root with PYTHONPATH=bindings/python.
"""
import argparse
import struct

import numpy as np
import torch
import torch.nn as nn

import hwnas

NET = "examples/nets/fmnist_ref.net"


def weights_arrays(blob):
    """(params, state) float32 arrays of a weights file's bytes
    (doc/formats/weights.md)."""
    nt, npar, nst = struct.unpack_from("<QQQ", blob, 24)
    off = 48 + 24 * nt
    p = np.frombuffer(blob, dtype="<f4", count=npar, offset=off).copy()
    s = np.frombuffer(blob, dtype="<f4", count=nst, offset=off + 4 * npar).copy()
    return p, s


def make_net():
    def block(cin, cout, s):
        return [nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(1, 16, 1), *block(16, 32, 2), *block(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def torch_tensors(net):
    """Parameters and running statistics in hwnas's flat order."""
    params, state = [], []
    for m in net:
        if isinstance(m, nn.Conv2d):
            params.append(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            params += [m.weight, m.bias]
            state += [m.running_mean, m.running_var]
        elif isinstance(m, nn.Linear):
            params += [m.weight, m.bias]
    return params, state


def load_into(net, p, s):
    params, state = torch_tensors(net)
    with torch.no_grad():
        o = 0
        for t in params:
            t.copy_(torch.from_numpy(p[o:o + t.numel()]).reshape(t.shape))
            o += t.numel()
        assert o == len(p)
        o = 0
        for t in state:
            t.copy_(torch.from_numpy(s[o:o + t.numel()]).reshape(t.shape))
            o += t.numel()
        assert o == len(s)


def flat(tensors):
    return np.concatenate([t.detach().numpy().ravel() for t in tensors])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--model", default="", help="extra hwnas model options")
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    ctx = hwnas.Context(threads=1)
    net = hwnas.Net.load(ctx, NET)
    full = hwnas.Dataset.load(ctx, "fashion-mnist", split="train")
    mean, std = full.stats()
    n = a.steps * a.batch
    ds = full.subset(n) if n < len(full) else full
    ds.normalize(mean, std)
    model = hwnas.Model(ctx, net, seed=a.seed)
    p0, s0 = weights_arrays(model.save_bytes())

    # hwnas: one epoch over the subset, losses per step
    ours = []
    opts = (f"epochs=1;batch={a.batch};lr=0.05;momentum=0.9;schedule=constant;"
            f"seed={a.seed}" + (";" + a.model if a.model else ""))
    model.train(ds, opts, progress=lambda p: ours.append(p["loss"])
                if p["event"] == "batch" else None)
    p1, s1 = weights_arrays(model.save_bytes())

    # torch: the same weights, the same order; in float32 and, as a yardstick
    # of how fast float rounding alone makes runs drift apart, in float64
    order = ds.shuffle(seed=a.seed, epoch=0)
    x, y = ds.batch(order)
    x, y = torch.from_numpy(x), torch.from_numpy(y).long()
    theirs, nets = {}, {}
    for dt in (torch.float32, torch.float64):
        tn = make_net()
        load_into(tn, p0, s0)
        tn = tn.to(dt)
        opt = torch.optim.SGD(tn.parameters(), lr=0.05, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        tn.train()
        losses = theirs[dt] = []
        for i in range(0, len(x), a.batch):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(tn(x[i:i + a.batch].to(dt)), y[i:i + a.batch])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        nets[dt] = tn
    print("step  hwnas_loss  torch32_loss  torch64_loss  hwnas-torch32  torch32-torch64")
    t32, t64 = theirs[torch.float32], theirs[torch.float64]
    for k, u in enumerate(ours):
        print(f"{k:4d}  {u:.6f}  {t32[k]:.6f}  {t64[k]:.6f}  {u - t32[k]:+.2e}  "
              f"{t32[k] - t64[k]:+.2e}")
    for name, tn in (("torch32", nets[torch.float32]), ("torch64", nets[torch.float64])):
        params, state = torch_tensors(tn)
        dp = np.abs(p1 - flat(params)).max()
        dr = np.abs(s1 - flat(state)).max()
        print(f"after {len(ours)} steps, hwnas vs {name}: max |param diff| {dp:.3e}, "
              f"max |running-stat diff| {dr:.3e} (max |param| {np.abs(p1).max():.3f})")
    p32, r32 = torch_tensors(nets[torch.float32])
    p64, r64 = torch_tensors(nets[torch.float64])
    print(f"after {len(ours)} steps, torch32 vs torch64: max |param diff| "
          f"{np.abs(flat(p32) - flat(p64)).max():.3e}, max |running-stat diff| "
          f"{np.abs(flat(r32) - flat(r64)).max():.3e}")

if __name__ == "__main__":
    main()

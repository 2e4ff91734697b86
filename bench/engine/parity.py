#!/usr/bin/env python3
"""Paired parity check of the fp32 engine against PyTorch on the reference
CNN (examples/nets/fmnist_ref.net). Both sides start from the SAME initial
weights (hwnas's, copied into torch) and see the SAME mini-batches (hwnas's
shuffle order and its normalised images: the training split's mean and
std, as hwnas train does), with SGD momentum 0.9, lr 0.05 constant,
batch 128, no augmentation.

  parity.py --steps 50 [--samples N] [--seed S]
      the loss of both sides step by step on the first N (default
      steps * batch) training images, next to torch in float64: how far
      float rounding alone moves two runs apart. Then the largest weight
      and running-statistic differences after the last step.
  parity.py --epochs 3 [--seed S]
      whole epochs on all 60000 images; test accuracy of both sides after
      every epoch (hwnas's weights are also evaluated by torch, a check of
      the inference path).

--raw feeds images scaled to [0, 1] without standardising them;
--hwnas-only (with --epochs) skips the torch side. --model adds hwnas
model options (e.g. "init=uniform": torch then starts from the weights
that option draws); --torch-init default re-initialises torch with its
own default instead of copying.
Run from the repository root:
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 \\
  PYTHONPATH=bindings/python /usr/bin/python3 bench/engine/parity.py ...
"""
import argparse
import struct
import sys

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
        for tensors, src in ((params, p), (state, s)):
            o = 0
            for t in tensors:
                t.copy_(torch.from_numpy(src[o:o + t.numel()]).reshape(t.shape))
                o += t.numel()
            assert o == len(src)


def flat(tensors):
    return np.concatenate([t.detach().double().numpy().ravel() for t in tensors])


def torch_train(net, x, y, orders, batch, dtype, losses):
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for order in orders:
        net.train()
        xs, ys = x[order], y[order]
        for i in range(0, len(xs), batch):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xs[i:i + batch].to(dtype)), ys[i:i + batch])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        yield net


def torch_accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        correct = sum((net(x[i:i + 256]).argmax(1) == y[i:i + 256]).sum().item()
                      for i in range(0, len(x), 256))
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--samples", type=int, default=0, help="--steps mode: training images")
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--model", default="", help="extra hwnas model options")
    ap.add_argument("--torch-init", choices=["copy", "default"], default="copy")
    ap.add_argument("--raw", action="store_true",
                    help="images in [0, 1], not standardised (as torch_ref.py)")
    ap.add_argument("--hwnas-only", action="store_true", help="--epochs: skip torch")
    a = ap.parse_args()
    torch.set_num_threads(1)
    ctx = hwnas.Context(threads=1)
    net = hwnas.Net.load(ctx, NET)
    full = hwnas.Dataset.load(ctx, "fashion-mnist", split="train")
    mean, std = full.stats()
    if a.epochs:
        ds, epochs = full, a.epochs
    else:
        n = a.samples or a.steps * a.batch
        ds, epochs = (full.subset(n) if n < len(full) else full), 1
    if not a.raw:
        ds.normalize(mean, std)
    opts = (f"epochs={epochs};batch={a.batch};lr=0.05;momentum=0.9;schedule=constant;"
            f"seed={a.seed}" + (";" + a.model if a.model else ""))
    model = hwnas.Model(ctx, net, seed=a.seed)
    p0, s0 = weights_arrays(model.save_bytes())
    if "init=" in a.model:  # the weights that option draws: a pass with lr 0 on a probe
        probe = hwnas.Model(ctx, net, seed=a.seed)
        probe.train(full.subset(2), f"lr=0;batch=2;seed={a.seed};{a.model}")
        p0 = weights_arrays(probe.save_bytes())[0]

    ours, snaps = [], []

    def progress(p):
        if p["event"] == "batch":
            ours.append(p["loss"])
        else:
            snaps.append(model.save_bytes())
    model.train(ds, opts, progress=progress)

    order = [ds.shuffle(seed=a.seed, epoch=e) for e in range(epochs)]
    x, y = ds.batch(np.arange(len(ds)))
    x, y = torch.from_numpy(x), torch.from_numpy(y).long()
    torch.manual_seed(a.seed)

    def fresh(dtype):
        tn = make_net()
        if a.torch_init == "copy":
            load_into(tn, p0, s0)
        return tn.to(dtype)

    if a.epochs:
        test = hwnas.Dataset.load(ctx, "fashion-mnist", split="test")
        if not a.raw:
            test.normalize(mean, std)
        tx, ty = test.batch(np.arange(len(test)))
        tx, ty = torch.from_numpy(tx), torch.from_numpy(ty).long()
        check = hwnas.Model(ctx, net, seed=a.seed)
        if a.hwnas_only:
            print("epoch  hwnas")
            for ep, snap in enumerate(snaps):
                check.load_bytes(snap)
                print(f"{ep + 1:5d}  {100 * check.evaluate(test)[0]:.2f}", flush=True)
            return
        tl = []
        print("epoch  hwnas  hwnas_weights_in_torch  torch")
        for ep, tn in enumerate(torch_train(fresh(torch.float32), x, y, order, a.batch,
                                            torch.float32, tl)):
            check.load_bytes(snaps[ep])
            acc_h = check.evaluate(test)[0]
            tw = make_net()
            load_into(tw, *weights_arrays(snaps[ep]))
            print(f"{ep + 1:5d}  {100 * acc_h:.2f}  {100 * torch_accuracy(tw, tx, ty):.2f}  "
                  f"{100 * torch_accuracy(tn, tx, ty):.2f}", flush=True)
        return

    p1, s1 = weights_arrays(model.save_bytes())
    losses, nets = {}, {}
    for dt in (torch.float32, torch.float64):
        losses[dt] = []
        for tn in torch_train(fresh(dt), x, y, order, a.batch, dt, losses[dt]):
            nets[dt] = tn
    t32, t64 = losses[torch.float32], losses[torch.float64]
    print("step  hwnas_loss  torch32_loss  torch64_loss  hwnas-torch32  torch32-torch64")
    for k, u in enumerate(ours):
        print(f"{k:4d}  {u:.6f}  {t32[k]:.6f}  {t64[k]:.6f}  {u - t32[k]:+.2e}  "
              f"{t32[k] - t64[k]:+.2e}")
    for name, tn in (("torch32", nets[torch.float32]), ("torch64", nets[torch.float64])):
        params, state = torch_tensors(tn)
        print(f"after {len(ours)} steps, hwnas vs {name}: max |param diff| "
              f"{np.abs(p1 - flat(params)).max():.3e}, max |running-stat diff| "
              f"{np.abs(s1 - flat(state)).max():.3e} (max |param| {np.abs(p1).max():.3f})")
    p32, r32 = torch_tensors(nets[torch.float32])
    p64, r64 = torch_tensors(nets[torch.float64])
    print(f"after {len(ours)} steps, torch32 vs torch64: max |param diff| "
          f"{np.abs(flat(p32) - flat(p64)).max():.3e}, max |running-stat diff| "
          f"{np.abs(flat(r32) - flat(r64)).max():.3e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

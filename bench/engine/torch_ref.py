#!/usr/bin/env python3
"""PyTorch reference for bench/engine: the Fashion-MNIST reference CNN
(examples/nets/fmnist_ref.net) trained with the same recipe as bench_engine
(batch 128, SGD momentum 0.9, lr 0.05, constant, no augmentation; He-normal
weights, zero biases, batch-norm momentum 0.1 and eps 1e-5), printing the
same "key value" lines.

usage: torch_ref.py [--threads 1,2] [--batches 60] [--epochs E] [--seed S]
                    [--init he|default] [--normalize] [--net FILE.net]
                    [--infer N]
--net times a net of libhwnas's text spec instead (torch_net.py; 1x28x28
inputs, 10 classes) with the same recipe.
--epochs E prints the test accuracy after every epoch (test_accuracy_E) and
after the last (test_accuracy). --init default keeps PyTorch's own
initialisation (kaiming_uniform(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
for weights and biases); --normalize standardises the images with the
training split's mean and std, as hwnas train does (default: x / 255).
Run it with LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
(bench/engine/run does): PyTorch is several times slower with glibc malloc.
"""
import argparse
import gzip
import resource
import struct
import time

import torch
import torch.nn as nn

import torch_net

DIR = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = bytearray(data[4 + 4 * ndim:])
    return torch.frombuffer(body, dtype=torch.uint8).reshape(dims)


def load(split):
    p = "train" if split == "train" else "t10k"
    x = idx(f"{DIR}/{p}-images-idx3-ubyte.gz").float() / 255.0
    y = idx(f"{DIR}/{p}-labels-idx1-ubyte.gz").long()
    return x.unsqueeze(1).contiguous(), y


def make_net(init="he"):
    def block(cin, cout, s):
        return [nn.Conv2d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    net = nn.Sequential(*block(1, 16, 1), *block(16, 32, 2), *block(32, 64, 2),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    for m in net.modules():
        if init == "he" and isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return net


def train(net, x, y, epochs=1, batch=128, seed=1, after_epoch=None):
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            j = order[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[j]), y[j])
            loss.backward()
            opt.step()
        if after_epoch:
            after_epoch(net)


def evaluate(net, x, y, batch=128):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", type=int, default=60)
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1, help="initialisation and shuffling")
    ap.add_argument("--init", choices=["he", "default"], default="he")
    ap.add_argument("--normalize", action="store_true")
    ap.add_argument("--net", help="a net of libhwnas's text spec instead of the reference CNN")
    ap.add_argument("--infer", type=int, default=0, help="test images timed (0: all)")
    a = ap.parse_args()
    xt, yt = load("train")
    xe, ye = load("test")
    if a.normalize:
        m, s = xt.mean(), xt.std()
        xt, xe = (xt - m) / s, (xe - m) / s
    n = a.batches * 128
    if a.infer > 0:
        xe, ye = xe[:a.infer], ye[:a.infer]
    for t in a.threads.split(","):
        torch.set_num_threads(int(t))
        torch.manual_seed(1)
        net = torch_net.SpecNet(open(a.net).read()) if a.net else make_net()
        train(net, xt[:5 * 128], yt[:5 * 128])  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        train(net, xt[:n], yt[:n])
        t1, c1 = time.perf_counter(), time.process_time()
        evaluate(net, xe, ye)
        t2, c2 = time.perf_counter(), time.process_time()
        print(f"train_images_per_s_{t} {n / (t1 - t0):.0f}")
        print(f"infer_images_per_s_{t} {len(xe) / (t2 - t1):.0f}")
        if t == "1":  # per CPU second: fair on a shared machine
            print(f"train_images_per_cpu_s_1 {n / (c1 - c0):.0f}")
            print(f"infer_images_per_cpu_s_1 {len(xe) / (c2 - c1):.0f}")
        print(end="", flush=True)
    if a.epochs > 0:
        torch.manual_seed(a.seed)
        net = make_net(a.init)
        done = [0, 0.0]

        def report(net):  # evaluation time is kept out of full_train_seconds
            e0 = time.perf_counter()
            done[0] += 1
            print(f"test_accuracy_{done[0]} {evaluate(net, xe, ye):.4f}", flush=True)
            net.train()
            done[1] += time.perf_counter() - e0
        t0 = time.perf_counter()
        train(net, xt, yt, epochs=a.epochs, seed=a.seed, after_epoch=report)
        t1 = time.perf_counter() - done[1]
        print(f"epochs {a.epochs}\ntest_accuracy {evaluate(net, xe, ye):.4f}")
        print(f"full_train_seconds {t1 - t0:.1f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak_rss_mib {rss:.1f}")


if __name__ == "__main__":
    main()

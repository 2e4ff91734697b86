#!/usr/bin/env python3
"""Reference values for tests/engine/test_model.c (test_torch_steps): three
SGD steps (lr 0.05, momentum 0.9) of a tiny conv + batch-norm + relu + gap +
linear net in PyTorch, float64, from fixed weights and inputs, the second
step on a partial batch of 2. Prints the losses, then the parameters and
batch-norm running statistics after the last step, in hwnas's flat order,
as C initialisers. Run: /usr/bin/python3 bench/engine/golden_step.py
"""
import math

import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)
net = nn.Sequential(nn.Conv2d(1, 2, 3, 1, 1, bias=False), nn.BatchNorm2d(2), nn.ReLU(),
                    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 3))
params = [net[0].weight, net[1].weight, net[1].bias, net[5].weight, net[5].bias]
state = [net[1].running_mean, net[1].running_var]
k = 0
with torch.no_grad():
    for t in params:  # the same formula as the C test
        flat = t.view(-1)
        for j in range(flat.numel()):
            flat[j] = float(torch.tensor(0.4 * math.sin(1.3 * k + 0.5), dtype=torch.float32))
            k += 1
x = torch.tensor([[float(torch.tensor(math.cos(0.37 * (s * 16 + i)) + 0.1 * s,
                                      dtype=torch.float32)) for i in range(16)]
                  for s in range(6)]).reshape(6, 1, 4, 4)
y = torch.tensor([0, 1, 2, 1, 0, 2])
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
losses = []
for lo, hi in ((0, 4), (4, 6), (0, 4)):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(net(x[lo:hi]), y[lo:hi])
    loss.backward()
    opt.step()
    losses.append(loss.item())


def c_array(name, values):
    rows = [", ".join(f"{v:.9e}" for v in values[i:i + 5]) for i in range(0, len(values), 5)]
    return f"static const double {name}[] = {{\n    " + ",\n    ".join(rows) + "};"


print(c_array("torch_losses", losses))
print(c_array("torch_params", torch.cat([t.detach().view(-1) for t in params]).tolist()))
print(c_array("torch_state", torch.cat([t.view(-1) for t in state]).tolist()))

#!/usr/bin/env python3
"""train.py — a small PyTorch loop logged with cairn.torch (CPU, seconds).

    /usr/bin/python3 examples/torch/train.py [--epochs 5] [--lr 0.05]

A two-layer MLP learns a noisy two-moons-like problem generated here
(nothing is downloaded).  cairn.torch.watch records the model's parameter
count and the optimizer's settings; log_step logs the loss and the learning
rate (a step schedule halves it every 2 epochs) per step; each `with
w.epoch()` block logs its time and mean loss.  The validation accuracy and
an image of the decision surface go through cairn.torch.SummaryWriter, the
TensorBoard-compatible writer, as code written for TensorBoard would.
"""

import argparse
import math

import torch

import cairn
import cairn.torch


def make_data(n, seed):
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g) * math.pi
    label = torch.randint(0, 2, (n,), generator=g)
    x = torch.stack([torch.cos(t) + label, torch.sin(t) * (1 - 2 * label) + 0.5 * label], 1)
    return x + 0.1 * torch.randn(n, 2, generator=g), label.float()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    x_train, y_train = make_data(512, 1)
    x_valid, y_valid = make_data(256, 2)
    model = torch.nn.Sequential(torch.nn.Linear(2, args.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(args.hidden, 1))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    with cairn.init(project="torch", params=args) as run:
        w = cairn.torch.watch(model, opt)               # torch.parameters, torch.optimizer.*
        writer = cairn.torch.SummaryWriter()            # logs into the same (active) run
        for epoch in range(args.epochs):
            with w.epoch():                             # epoch_time, epoch_loss
                model.train()
                for i in torch.randperm(len(x_train)).split(args.batch_size):
                    loss = loss_fn(model(x_train[i]).squeeze(1), y_train[i])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    w.log_step(loss)                    # loss, lr at the global step
            sched.step()
            model.eval()
            with torch.no_grad():
                acc = ((model(x_valid).squeeze(1) > 0).float() == y_valid).float().mean()
            writer.add_scalar("valid/accuracy", acc, epoch)
        with torch.no_grad():                           # the decision surface, as an image
            gx, gy = torch.meshgrid(torch.linspace(-1.5, 2.5, 64), torch.linspace(-1, 1.5, 48), indexing="xy")
            p = torch.sigmoid(model(torch.stack([gx.flatten(), gy.flatten()], 1))).reshape(48, 64)
        writer.add_image("decision_surface", torch.stack([p, 0.2 * torch.ones_like(p), 1 - p]), args.epochs - 1)
        writer.close()                                  # flushes; the run is cairn.init's to finish
        print("run %s (%s): %d parameters, valid accuracy %.3f"
              % (run.id[:8], run.name, cairn.torch.parameter_count(model), float(acc)))


if __name__ == "__main__":
    main()

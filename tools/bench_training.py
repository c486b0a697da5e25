"""Training benchmark: the NumPy trainer against PyTorch CPU on the same MLP (not a test).

    python tools/bench.py training [--hidden 800,200] [--batch 100] [--threads 1] [--epochs 15]

Both train the same float32 sigmoid MLP from the same initial weights on the same 50,000
undistorted training digits in the same order, with minibatch SGD (momentum 0.9) and the same
learning-rate schedule (warm-up, then cosine), the same batch size and the same number of BLAS /
intra-op threads. Reported per trainer: training throughput (samples/s, training steps only),
and the training time until the validation error first reaches 2% and 1% (scored after every
epoch; "not reached" when it does not within the epochs run). PyTorch must be installed
(`pip install torch==2.13.0`, its CPU build); without it only the NumPy trainer runs.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from training import mnist
from training.gradients import minibatch_gradient
from training.models import Mlp, evaluate, init_mlp
from training.train import TrainConfig, learning_rate

TARGETS = (0.02, 0.01)


def numpy_trainer(model: Mlp, cfg: TrainConfig, x, t, order, xv, tv, epochs: int) -> dict:
    velocity = [np.zeros_like(p) for p in model.params()]
    params = model.params()
    steps = len(t) // cfg.batch_size
    train_time, reached, curve = 0.0, {}, []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        for s in range(steps):
            idx = order[epoch][s * cfg.batch_size:(s + 1) * cfg.batch_size]
            lr = np.float32(learning_rate(cfg, (epoch + s / steps) / epochs))
            grads, _ = minibatch_gradient(model, x[idx], t[idx])
            for p, g, v in zip(params, grads, velocity):
                v *= np.float32(cfg.momentum)
                v += (lr / np.float32(cfg.batch_size)) * g
                p += v
        train_time += time.perf_counter() - t0
        err = evaluate(model, xv, tv)[1]
        curve.append(err)
        for target in TARGETS:
            if err <= target and target not in reached:
                reached[target] = (train_time, epoch + 1)
    return {"samples_per_s": epochs * steps * cfg.batch_size / train_time, "reached": reached,
            "final_error": curve[-1], "best_error": min(curve), "train_time": train_time}


def torch_trainer(model: Mlp, cfg: TrainConfig, x, t, order, xv, tv, epochs: int, threads: int) -> dict:
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for i, (w, b) in enumerate(model.layers()):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i + 1 < len(model.weights):
            layers.append(torch.nn.Sigmoid())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    xvt = torch.from_numpy(xv)
    steps = len(t) // cfg.batch_size
    train_time, reached, curve = 0.0, {}, []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        net.train()
        for s in range(steps):
            idx = torch.from_numpy(order[epoch][s * cfg.batch_size:(s + 1) * cfg.batch_size])
            for group in opt.param_groups:
                group["lr"] = learning_rate(cfg, (epoch + s / steps) / epochs)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), tt[idx])
            loss.backward()
            opt.step()
        train_time += time.perf_counter() - t0
        with torch.no_grad():
            err = float((net(xvt).argmax(dim=1).numpy() != tv).mean())
        curve.append(err)
        for target in TARGETS:
            if err <= target and target not in reached:
                reached[target] = (train_time, epoch + 1)
    return {"samples_per_s": epochs * steps * cfg.batch_size / train_time, "reached": reached,
            "final_error": curve[-1], "best_error": min(curve), "train_time": train_time,
            "version": torch.__version__}


def fmt_reached(r: dict, target: float, epochs: int) -> str:
    if target in r["reached"]:
        secs, ep = r["reached"][target]
        return f"{secs:.0f} s (epoch {ep})"
    return f"not reached in {epochs} epochs"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python tools/bench.py training", description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", default="800,200", help="hidden layer widths, comma-separated")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1, help="BLAS / torch intra-op threads for both")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--lr", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=None, help="MNIST folder (default: $EDGEDIGITS_DATA)")
    args = ap.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    except ImportError:
        print("threadpoolctl missing: set OPENBLAS_NUM_THREADS yourself", file=sys.stderr)
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    cfg = TrainConfig(hidden=hidden, batch_size=args.batch, lr=args.lr, warmup_epochs=1, epochs=args.epochs,
                      lr_final=0.001, momentum=0.9)
    d = mnist.load(args.data)
    x, t = mnist.as_inputs(d.train.images), d.train.labels
    xv, tv = mnist.as_inputs(d.valid.images), d.valid.labels
    rng = np.random.default_rng(args.seed)
    order = [rng.permutation(len(t)) for _ in range(args.epochs)]
    init = init_mlp(hidden, np.random.default_rng(args.seed))
    results = {"NumPy trainer": numpy_trainer(init.copy(), cfg, x, t, order, xv, tv, args.epochs)}
    try:
        import torch  # noqa: F401
    except ImportError:
        print("PyTorch not installed (pip install torch==2.13.0): NumPy trainer only", file=sys.stderr)
    else:
        r = torch_trainer(init.copy(), cfg, x, t, order, xv, tv, args.epochs, args.threads)
        results[f"PyTorch {r['version']} CPU"] = r
    sizes = "-".join(map(str, (784, *hidden, 10)))
    print(f"MLP {sizes}, batch {args.batch}, {args.threads} thread(s), {args.epochs} epochs of 50,000 "
          f"undistorted digits, SGD momentum 0.9, lr {args.lr} (warm-up + cosine), float32; "
          f"{platform.machine()}, {os.cpu_count()} cores")
    print()
    print("| trainer | samples/s | time to 2% val. error | time to 1% val. error | best val. error |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['samples_per_s']:,.0f} | {fmt_reached(r, 0.02, args.epochs)} | "
              f"{fmt_reached(r, 0.01, args.epochs)} | {r['best_error']:.2%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""PyTorch peer of specbias: trains the network of one `specbias run --dump` folder.

Usage: /usr/bin/python3 peers/peer_torch.py DUMP_DIR [--threads T] [--steps N]

Builds the same nn.Sequential (Linear + ReLU, the last layer linear or sigmoid), loads the
initial parameters specbias used (init.f32: per layer W [out][in] then b [out]) and trains
with nn.MSELoss and torch.optim.Adam / SGD (the meta's lr, betas, eps) on the encoded inputs
(enc.f32) for N steps (default: the dump's). Prints one JSON line:
  {"peer": "torch", "seconds": S, "steps": N, "threads": T, "final_loss": L, ...}
seconds: wall time of the step loop only. final_loss: the training loss of the last step
(its forward pass, before its update), the same quantity as the dump's losses.f32[N-1].

Threads: torch.set_num_threads(T), and unless the environment sets them, OPENBLAS_NUM_THREADS=T
(Debian's torch does its GEMMs in the system BLAS, whose own thread pool otherwise takes every
core whatever T is) and OMP_WAIT_POLICY=PASSIVE (else torch's OpenMP threads spin while the
BLAS threads work, and 2 threads on 2 cores run several times slower than 1). Both, and the
BLAS library torch loaded, are in the JSON line.

Full batch as specbias. A minibatch experiment (meta batch < n) takes batch rows per step in
a fixed cyclic order, not specbias's shuffled one: the cost per step is the same, the losses
are not comparable.
Exit status: 0, 2 bad arguments or dump (the message names the file), 77 torch missing.
"""
import argparse
import json
import math
import os
import sys
import time

np = torch = None  # imported in main, after the thread environment is set

# Steps run on a throwaway copy before the timed loop, so that thread-pool start-up and the
# first-call costs of the kernels are not charged to the timed steps; the trained model never
# sees them.
WARMUP_STEPS = 2


def load(dump):
    def path(name):
        return os.path.join(dump, name)

    try:
        with open(path("meta.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path('meta.json')}: {exc}")
    need = ["n", "features", "out", "layers", "output", "optimizer", "lr", "steps", "batch"]
    missing = [k for k in need + (["betas", "eps"] if meta.get("optimizer") == "adam" else [])
               if k not in meta]
    if missing:
        raise SystemExit(f"{path('meta.json')}: missing {', '.join(missing)}")
    n, F, C = meta["n"], meta["features"], meta["out"]

    def f32(name, count):
        try:
            a = np.fromfile(path(name), dtype="<f4")
        except OSError as exc:
            raise SystemExit(f"{path(name)}: {exc}")
        if a.size != count:
            raise SystemExit(f"{path(name)}: {a.size} floats, meta.json implies {count}")
        return a

    P = sum((L["in"] + 1) * L["out"] for L in meta["layers"])
    return (meta, f32("enc.f32", n * F).reshape(n, F), f32("target.f32", n * C).reshape(n, C),
            f32("init.f32", P))


def build(meta, init):
    mods, off, layers = [], 0, meta["layers"]
    for i, L in enumerate(layers):
        lin = torch.nn.Linear(L["in"], L["out"])
        nw, nb = L["out"] * L["in"], L["out"]
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(init[off:off + nw].reshape(L["out"], L["in"])))
            lin.bias.copy_(torch.from_numpy(init[off + nw:off + nw + nb]))
        off += nw + nb
        mods.append(lin)
        if i + 1 < len(layers):
            mods.append(torch.nn.ReLU())
    if meta["output"] == "sigmoid":
        mods.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*mods)


def train(meta, init, X, T, steps):
    """Returns (seconds of the step loop, loss of the last step)."""
    model = build(meta, init)
    if meta["optimizer"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=meta["lr"], betas=tuple(meta["betas"]),
                               eps=meta["eps"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=meta["lr"])
    mse = torch.nn.MSELoss()
    n, B = X.shape[0], meta["batch"]
    minibatch = B < n
    rows = torch.arange(B)
    loss = None
    t0 = time.perf_counter()
    for s in range(steps):
        if minibatch:
            idx = (rows + s * B) % n
            x, t = X.index_select(0, idx), T.index_select(0, idx)
        else:
            x, t = X, T
        opt.zero_grad()
        loss = mse(model(x), t)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    final = loss.item() if loss is not None else None
    return seconds, (final if final is not None and math.isfinite(final) else None)  # JSON null


def loaded_blas():
    """Paths of the BLAS libraries mapped into this process."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return []
    return sorted({os.path.realpath(p) for p in paths
                   if any(k in os.path.basename(p) for k in ("blas", "mkl", "lapack"))})


def main():
    global np, torch
    ap = argparse.ArgumentParser(description="PyTorch peer of specbias (one dump folder)")
    ap.add_argument("dump")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=None, help="default: the dump's steps")
    a = ap.parse_args()
    if a.threads < 1 or (a.steps is not None and a.steps < 0):
        ap.error("--threads must be >= 1 and --steps >= 0")
    env = {"OPENBLAS_NUM_THREADS": str(a.threads), "OMP_WAIT_POLICY": "PASSIVE"}
    for k, v in env.items():
        os.environ.setdefault(k, v)
    try:
        import numpy as np
        import torch
    except Exception as exc:  # ImportError, or a broken install
        print(f"unavailable: PyTorch/numpy not importable by {sys.executable}: {exc}",
              file=sys.stderr)
        sys.exit(77)
    meta, enc, tgt, init = load(a.dump)
    if meta["optimizer"] not in ("adam", "sgd"):
        raise SystemExit(f"{os.path.join(a.dump, 'meta.json')}: unknown optimizer "
                         f"{meta['optimizer']!r}")
    steps = meta["steps"] if a.steps is None else a.steps
    torch.set_num_threads(a.threads)
    X, T = torch.from_numpy(enc), torch.from_numpy(tgt)
    train(meta, init, X, T, min(WARMUP_STEPS, steps))  # throwaway model and optimiser
    seconds, final = train(meta, init, X, T, steps)
    print(json.dumps({"peer": "torch", "seconds": seconds, "steps": steps, "threads": a.threads,
                      "final_loss": final, "batch": min(meta["batch"], meta["n"]),
                      "version": torch.__version__, "blas": loaded_blas(),
                      "env": {k: os.environ[k] for k in env}}))


if __name__ == "__main__":
    try:
        main()
    except SystemExit as e:
        if isinstance(e.code, str):  # a message: bad input
            print(f"peer_torch: {e.code}", file=sys.stderr)
            sys.exit(2)
        raise

#!/usr/bin/python3
"""Agreement of specbias with an independent implementation (PyTorch).

Usage: /usr/bin/python3 tests/torch_agreement.py SPECBIAS_BINARY SCRATCH_DIR

Writes a small suite into SCRATCH_DIR, runs `specbias run ... --dump`, and for every
experiment:
  1. recomputes the input encoding from x.f32 (and B.f32) in float64 and compares it with
     the encoded inputs specbias trained on (enc.f32);
  2. rebuilds the same network as torch.nn.Sequential in float32, loads the initial
     parameters specbias used (init.f32), trains it full batch on enc.f32 with nn.MSELoss and
     torch.optim.Adam / SGD for the same number of steps, and compares the loss of every step
     with specbias's (losses.f32);
  3. compares the final parameters (final.f32).

Float32 training is not reproducible across summation orders in general: with Adam, a ReLU
unit whose gradient is near zero takes a full-size step in the direction the rounding noise
points, and a run can switch to a neighbouring trajectory (measured: over seeds 0..7 of this
suite, torch float32 and torch float64 differ by more than 1e-4 in about a third of the Adam
runs within 200 steps, by up to 2%; specbias is as often the one that agrees with float64 as
torch float32 is). The registered test (seed 0) is well-conditioned here: every run passes
the tight tolerance. So a run that misses the tight tolerance gets a second, calibrated look:
it is replayed in float64 and NOISE_REPLAYS times more in float32 with the initial weights
perturbed by a few ulps, and passes if specbias follows one of those perturbed torch
trajectories within the tight tolerance at every step (it took a neighbouring trajectory that
rounding alone reaches), or else stays within NOISE_FACTOR times torch's own float32 spread
around float64 up to that step (never looser than the tight tolerance). Such runs are named
in the output ("ill-conditioned").

Exit status: 0 pass, 1 fail (the message names the experiment and the step), 77 skipped
(torch or numpy missing; the reason is printed as "SKIP: ...").
Environment, for measuring only: SB_TORCH_AGREEMENT_STEPS, SB_TORCH_AGREEMENT_SEED.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import time

try:
    import numpy as np
    import torch
except Exception as exc:  # ImportError, or a broken install
    print(f"SKIP: PyTorch/numpy not importable by {sys.executable}: {exc}")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTO = os.path.normpath(os.path.join(HERE, "..", "suites", "data", "astronaut.png"))

# Tolerances, from measurements (torch 1.13 on x86-64, specbias scalar and AVX2, which agree
# bit for bit; suite seeds 0..15, 200 steps).
#
# Encoding: |enc - float64| <= ENC_ABS + ENC_REL * |argument|, the argument being
# 2 pi sum_c |B_c x_c| (Fourier) or 2^l pi |x| (posenc): a few float32 ulps of the argument,
# which is formed in float32, plus a few ulps of the result. Measured (seeds 0..15): at most
# 0.41 of this. Posenc and basic: 4.8e-8 absolute at any argument (exact 2^l scaling); Gauss
# (|argument| bound up to ~220): 2.6e-7 where it is below 2 pi, 1.6e-5 at most; the Tancik
# frequencies (up to ~370): 5.9e-6.
ENC_ABS = 1e-6
ENC_REL = 4.0 * 2.0 ** -24
# Loss, relative, at every step, against torch float32. Measured on well-conditioned runs
# (all of seed 0): at most 1.4e-7 at step 0 and up to 2.3e-6 by step 200. Plausible bugs
# replayed in torch against specbias (Adam without bias correction, eps inside the square
# root, beta2 changed by 10% of 1 - beta2, eps x 10, lr x 1.001, one row left out of the loss)
# reach 3.5e-4 .. 10 in every Adam run, so 1e-4 keeps a 40x margin and still catches them.
LOSS_REL = 1e-4
# Final parameters: max |difference| / max |parameter|, per tensor. Measured on runs within
# LOSS_REL: up to 3.9e-3 (Adam moves a parameter with a near-zero gradient by up to lr per
# step in whatever direction rounding gives it, without the loss noticing).
PARAM_REL = 2e-2
# Ill-conditioned runs: specbias's deviation from torch float64 may be this many times the
# largest deviation of torch's own float32 replays from float64, up to LOOKAHEAD steps later
# (a neighbouring trajectory is reached within a few steps of the same place, not at exactly
# the same step). The perturbation stands in for the ulp-sized differences that another
# summation order makes at every step; a one-off kick of 1 ulp is too gentle to find the
# neighbouring trajectories reliably (measured: 2 of 8 such replays of one run found
# specbias's, which one of them then matched within 7e-7 at every step). Measured over seeds
# 0..15: the largest ratio specbias / torch spread is ~1 (25 ill-conditioned runs, all pass).
# specbias built with lr x 1.001 or eps x 10 fails 4 to 5 of the 6 Adam runs of seed 0, at
# steps 1 to 67, before torch's own spread has grown.
NOISE_FACTOR = 10.0
LOOKAHEAD = 20
PERTURB = 2.0 ** -20  # relative perturbation of the initial weights in the noise replays
NOISE_REPLAYS = 8

STEPS = 200


def suite(steps, seed=0):
    sines = {
        "kind": "sines1d", "n": 256, "domain": [0, 1],
        "frequencies": {"from": 2, "to": 20, "step": 3}, "amplitudes": 1.0,
    }
    sines11 = dict(sines, domain=[-1, 1])
    zone = {"kind": "zoneplate", "size": 32, "channels": 1}
    photo = {"kind": "image", "path": PHOTO, "size": 32, "channels": 3}

    def adam(lr=1e-3, **kw):
        return dict({"optimizer": "adam", "lr": lr, "batch": "full", "steps": steps}, **kw)

    def exp(name, target, encoding, depth, width, output, train):
        return {
            "name": name, "target": target, "encoding": encoding,
            "model": {"depth": depth, "width": width, "output": output},
            "train": train, "checkpoints": 2,
        }

    exps = [
        exp("raw01", sines, {"kind": "none"}, 3, 64, "linear", adam()),
        exp("raw11-sgd", sines11, {"kind": "none"}, 2, 32, "linear",
            {"optimizer": "sgd", "lr": 0.05, "batch": "full", "steps": steps}),
        # Non-default betas and eps; at lr 1e-3 this net reaches a loss of ~1e-3 by step 80
        # and Adam then oscillates, where rounding is amplified at every spike.
        exp("pe0-5", sines, {"kind": "posenc", "octaves": [0, 5]}, 3, 64, "linear",
            adam(lr=5e-4, betas=[0.85, 0.995], eps=1e-6)),
        exp("basic2d", zone, {"kind": "basic"}, 2, 64, "linear", adam(lr=2e-3)),
        exp("gauss2d-zone", zone, {"kind": "gauss", "features": 64, "sigma": 10}, 2, 64,
            "sigmoid", adam()),
        exp("tancik2d-zone", zone, {"kind": "tancik_posenc", "scale": 6, "count": 16}, 2, 32,
            "sigmoid", adam()),
    ]
    if os.path.exists(PHOTO):
        exps.append(exp("gauss2d-photo", photo, {"kind": "gauss", "features": 64, "sigma": 10},
                        3, 48, "sigmoid", adam()))
    else:
        print(f"note: {PHOTO} missing, the photo experiment is left out")
    return {
        "schema": "specbias-suite/1", "name": "torch_agreement",
        "description": "small runs replayed by tests/torch_agreement.py",
        "defaults": {"seed": seed}, "experiments": exps,
    }


def f32(path, shape=None):
    a = np.fromfile(path, dtype="<f4")
    return a.reshape(shape) if shape is not None else a


def reference_encoding(meta, x, B):
    """float64 encoding of the float32 inputs (with the float32 B), and |argument|."""
    e = meta["encoding"]
    x = x.astype(np.float64)
    if e["kind"] == "none":
        return x, np.zeros_like(x)
    if e["kind"] == "posenc":
        ls = np.arange(e["l0"], e["l1"] + 1, dtype=np.float64)
        # [n][d][L] -> feature c*L + (l-l0); the sin block, then the cos block.
        arg = (math.pi * x[:, :, None] * (2.0 ** ls)[None, None, :]).reshape(x.shape[0], -1)
        mag = np.abs(arg)
        return np.concatenate([np.sin(arg), np.cos(arg)], axis=1), np.concatenate([mag, mag], 1)
    if e["kind"] == "fourier":
        B = B.astype(np.float64)
        arg = 2.0 * math.pi * (x @ B.T)
        mag = 2.0 * math.pi * (np.abs(x) @ np.abs(B).T)
        return np.concatenate([np.sin(arg), np.cos(arg)], axis=1), np.concatenate([mag, mag], 1)
    raise ValueError(f"unknown encoding kind {e['kind']!r}")


def build(meta, init):
    """nn.Sequential with the initial parameters; also the Linear layers in order."""
    mods, linears, off = [], [], 0
    layers = meta["layers"]
    for i, L in enumerate(layers):
        lin = torch.nn.Linear(L["in"], L["out"])
        nw, nb = L["out"] * L["in"], L["out"]
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(init[off:off + nw].reshape(L["out"], L["in"])))
            lin.bias.copy_(torch.from_numpy(init[off + nw:off + nw + nb]))
        off += nw + nb
        mods.append(lin)
        linears.append(lin)
        if i + 1 < len(layers):
            mods.append(torch.nn.ReLU())
    if meta["output"] == "sigmoid":
        mods.append(torch.nn.Sigmoid())
    if off != init.size:
        raise ValueError(f"init.f32 has {init.size} floats, the layers need {off}")
    return torch.nn.Sequential(*mods), linears


def replay(meta, init, enc, t, dtype=torch.float32, perturb_seed=None):
    """Trains as specbias did. Returns (loss per step, final parameters flat, float64)."""
    model, linears = build(meta, init)
    model = model.to(dtype)
    if perturb_seed is not None:
        g = torch.Generator().manual_seed(perturb_seed)
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(1.0 + PERTURB * (2.0 * torch.rand(p.shape, generator=g, dtype=dtype) - 1.0))
    if meta["optimizer"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=meta["lr"], betas=tuple(meta["betas"]),
                               eps=meta["eps"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=meta["lr"])
    X = torch.from_numpy(enc.copy()).to(dtype)
    T = torch.from_numpy(t.copy()).to(dtype)
    mse = torch.nn.MSELoss()
    out = np.empty(meta["steps"], dtype=np.float64)
    for s in range(meta["steps"]):
        opt.zero_grad()
        loss = mse(model(X), T)
        loss.backward()
        opt.step()
        out[s] = loss.item()
    params = np.concatenate([np.concatenate([l.weight.detach().double().numpy().ravel(),
                                             l.bias.detach().double().numpy().ravel()])
                             for l in linears])
    return out, params


def rel(a, b):
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-30)


def tensor_devs(meta, a, b):
    """[(label, max |a-b|, that / max |b|)] per weight and bias tensor."""
    out, off = [], 0
    for li, L in enumerate(meta["layers"]):
        for kind, k in (("W", L["out"] * L["in"]), ("b", L["out"])):
            d = np.abs(a[off:off + k] - b[off:off + k]).max()
            out.append((f"{kind}{li}", float(d), float(d / max(np.abs(b[off:off + k]).max(), 1e-30))))
            off += k
    return out


def check(dirpath):
    """Returns (ok, messages, stats)."""
    meta = json.load(open(os.path.join(dirpath, "meta.json")))
    name, n, d, F, C = meta["name"], meta["n"], meta["d"], meta["features"], meta["out"]
    msgs, ok = [], True
    stats = {"name": name}

    def fail(msg):
        nonlocal ok
        ok = False
        msgs.append(f"FAIL {name}: {msg}")

    if meta["batch"] != n:
        fail(f"batch {meta['batch']} != n {n}: only full batch is replayed")
        return ok, msgs, stats
    if meta["optimizer"] not in ("adam", "sgd"):
        fail(f"unknown optimizer {meta['optimizer']!r}")
        return ok, msgs, stats
    x = f32(os.path.join(dirpath, "x.f32"), (n, d))
    enc = f32(os.path.join(dirpath, "enc.f32"), (n, F))
    t = f32(os.path.join(dirpath, "target.f32"), (n, C))
    init = f32(os.path.join(dirpath, "init.f32"))
    losses = f32(os.path.join(dirpath, "losses.f32")).astype(np.float64)
    final = f32(os.path.join(dirpath, "final.f32")).astype(np.float64)
    B = None
    if meta["encoding"]["kind"] == "fourier":
        B = f32(os.path.join(dirpath, "B.f32"), (meta["encoding"]["m"], d))
    steps = meta["steps"]
    if losses.size != steps or final.size != init.size:
        fail(f"losses.f32 has {losses.size} entries (steps {steps}), final.f32 {final.size} "
             f"floats (init.f32 {init.size})")
        return ok, msgs, stats

    # 1. The encoding.
    ref, argmag = reference_encoding(meta, x, B)
    if ref.shape != enc.shape:
        fail(f"encoding shape {enc.shape}, reference {ref.shape}")
        return ok, msgs, stats
    err = np.abs(enc.astype(np.float64) - ref)
    tol = ENC_ABS + ENC_REL * argmag if meta["encoding"]["kind"] != "none" else np.zeros_like(ref)
    stats["enc_max_abs"] = float(err.max())
    stats["enc_over_tol"] = float((err / np.maximum(tol, 1e-300)).max()) if tol.any() else 0.0
    bad = np.argwhere(err > tol)
    if bad.size:
        i, f = bad[0]
        fail(f"encoding differs at row {i} feature {f}: specbias {enc[i, f]!r}, float64 "
             f"{ref[i, f]!r} (|diff| {err[i, f]:.3g} > tol {tol[i, f]:.3g}; {len(bad)} entries)")

    # 2. Training in torch float32, on exactly the inputs specbias used.
    a32, p32 = replay(meta, init, enc, t)
    r = rel(losses, a32)
    pd = tensor_devs(meta, final, p32)
    worst_p = max(pd, key=lambda v: v[2])
    stats.update(loss_rel0=float(r[0]), loss_max_rel=float(r.max()), loss_max_step=int(r.argmax()),
                 loss_first=float(a32[0]), loss_last=float(a32[-1]),
                 param_max_abs=max(v[1] for v in pd), param_max_rel=worst_p[2], mode="tight")
    if r.max() <= LOSS_REL and worst_p[2] <= PARAM_REL:
        return ok, msgs, stats

    # 3. Missed the tight tolerance: how far does torch float32 wander from float64 by itself?
    a64, p64 = replay(meta, init, enc, t, dtype=torch.float64)
    members = [(a32, p32)] + [replay(meta, init, enc, t, perturb_seed=k + 1)
                              for k in range(NOISE_REPLAYS)]
    dev = np.max([rel(a, a64) for a, _ in members], axis=0)
    follow = [float(rel(losses, a).max()) for a, _ in members]
    best = int(np.argmin(follow))
    # noise[s]: the members' largest deviation up to step s + LOOKAHEAD.
    noise = np.maximum.accumulate(dev)
    noise = np.concatenate([noise[LOOKAHEAD:], np.full(min(LOOKAHEAD, steps), noise[-1])])
    allowed = np.maximum(LOSS_REL, NOISE_FACTOR * noise)
    d_sb = rel(losses, a64)
    ratio = d_sb / np.maximum(noise, 1e-30)
    stats.update(mode="ill-conditioned", noise_max=float(dev.max()), sb64_max=float(d_sb.max()),
                 ratio_max=float(ratio[d_sb > LOSS_REL].max()) if (d_sb > LOSS_REL).any() else 0.0,
                 follow=follow[best])
    msgs.append(f"note {name}: misses the tight tolerance (specbias vs torch float32: "
                f"{r.max():.3g} at step {int(r.argmax())}, first above {LOSS_REL:g} at step "
                f"{int(np.argmax(r > LOSS_REL)) if (r > LOSS_REL).any() else '-'}; worst final "
                f"tensor {worst_p[0]} {worst_p[2]:.3g}); torch's own float32 replays differ from "
                f"float64 by up to {dev.max():.3g}, specbias by {d_sb.max():.3g}; the closest torch "
                f"replay ({'unperturbed' if best == 0 else f'perturbation {best}'}) is within "
                f"{follow[best]:.3g} of specbias at every step: ill-conditioned")
    if follow[best] <= LOSS_REL:
        return ok, msgs, stats  # specbias follows a trajectory torch itself takes
    bad = np.nonzero(d_sb > allowed)[0]
    if bad.size:
        s = int(bad[0])
        fail(f"loss differs at step {s}: specbias {losses[s]!r}, torch float64 {a64[s]!r} "
             f"(relative {d_sb[s]:.3g}), while torch's own float32 replays stay within "
             f"{noise[s]:.3g} of float64 up to step {min(s + LOOKAHEAD, steps - 1)} (allowed "
             f"{allowed[s]:.3g}; {bad.size} of {steps} steps beyond)")
    # Final parameters against the same yardstick, per tensor.
    sb_pd = tensor_devs(meta, final, p64)
    mem_pd = [tensor_devs(meta, p, p64) for _, p in members]
    for i, (label, dabs, drel) in enumerate(sb_pd):
        spread = max(m[i][2] for m in mem_pd)
        if drel > max(PARAM_REL, NOISE_FACTOR * spread):
            fail(f"final {label} differs from torch float64 by {dabs:.3g} ({drel:.3g} of max "
                 f"|param|), torch's float32 replays by at most {spread:.3g}")
    return ok, msgs, stats


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    binary, scratch = argv[1], argv[2]
    if not os.access(binary, os.X_OK):
        print(f"FAIL: {binary} is not an executable")
        return 1
    torch.set_num_threads(1)
    steps = int(os.environ.get("SB_TORCH_AGREEMENT_STEPS", STEPS))
    seed = int(os.environ.get("SB_TORCH_AGREEMENT_SEED", 0))
    t0 = time.time()
    if os.path.isdir(scratch):
        shutil.rmtree(scratch)
    os.makedirs(scratch)
    spec = suite(steps, seed)
    suite_path = os.path.join(scratch, "suite.json")
    with open(suite_path, "w") as f:
        json.dump(spec, f, indent=1)
    dump = os.path.join(scratch, "dump")
    cmd = [binary, "run", "--suite", suite_path, "--steps", str(steps), "--out",
           os.path.join(scratch, "out"), "--dump", dump, "--quiet", "--threads", "1"]
    print("running:", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print(r.stdout)
        print(f"FAIL: specbias exited {r.returncode}")
        return 1
    t1 = time.time()
    names = sorted(os.listdir(dump)) if os.path.isdir(dump) else []
    want = sorted(e["name"].replace("/", "_").replace(" ", "_") for e in spec["experiments"])
    if names != want:
        print(f"FAIL: dump folders {names} in {dump}, expected {want}")
        return 1
    ok, rows = True, []
    for nm in names:
        try:
            e_ok, msgs, st = check(os.path.join(dump, nm))
        except Exception as exc:  # a malformed dump is a failure, named
            e_ok, msgs, st = False, [f"FAIL {nm}: {type(exc).__name__}: {exc}"], {"name": nm}
        ok &= e_ok
        for m in msgs:
            print(m, flush=True)
        rows.append(st)
    print(f"\ntorch {torch.__version__}, numpy {np.__version__}, {steps} steps, seed {seed}; "
          f"tolerances: encoding {ENC_ABS:g} + {ENC_REL:.3g}*|arg|; loss {LOSS_REL:g} relative "
          f"at every step; final params {PARAM_REL:g} of the tensor's max |param|")
    print(f"{'experiment':14} {'enc max|d|':>10} {'/tol':>5} {'loss rel@0':>10} {'max rel':>9} "
          f"{'at':>4} {'loss0':>8} {'lossN':>8} {'param|d|':>9} {'rel':>8}  judged")
    for st in rows:
        if "loss_max_rel" not in st:
            print(f"{st['name']:14} (incomplete)")
            continue
        judged = st["mode"]
        if judged != "tight":
            judged += (f": torch f32 vs f64 up to {st['noise_max']:.2g}, specbias vs f64 "
                       f"{st['sb64_max']:.2g} (ratio {st['ratio_max']:.2g}), closest replay "
                       f"{st['follow']:.2g}")
        print(f"{st['name']:14} {st['enc_max_abs']:10.2e} {st['enc_over_tol']:5.2f} "
              f"{st['loss_rel0']:10.2e} {st['loss_max_rel']:9.2e} {st['loss_max_step']:4d} "
              f"{st['loss_first']:8.3g} {st['loss_last']:8.3g} {st['param_max_abs']:9.2e} "
              f"{st['param_max_rel']:8.2e}  {judged}")
    print(f"specbias {t1 - t0:.1f} s, torch {time.time() - t1:.1f} s")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""parity.py: replays in PyTorch the SimCLR step that tools/torchref/dump ran in
vkclr, and compares. From DIR (see dump's doc):

  torchvision's resnet18 (with vkclr's stem) + the projection head, loaded
  from init.safetensors; the views from views.safetensors; training-mode
  forward, L2 normalization, NT-Xent (positives i <-> i+N, temperature from
  step.json), backward; then one step of torch.optim.SGD (Nesterov),
  LARS (SimCLR's rule, written out below: torch has none) and
  torch.optim.AdamW, biases and batchnorm parameters (1-D tensors) without
  weight decay.

Checked: the loss, every parameter's gradient, and the weights and running
statistics after each optimizer, each within TOL (1e-4) of the tensor's
largest magnitude: max|vkclr - torch| <= TOL * max|torch|. Also printed: each
step's update (after - before) compared the same way, relative to the largest
update. PyTorch runs in float64 (--float32 for float32), so the reference is
not float32 noise itself.

Two measurements say whether float32 can meet TOL at this point at all:
  - the floor: the float64 step again from the weights times (1 + 2^-24 e),
    e ~ N(0,1) (half a float32 ulp), two draws; each gradient's largest change
    relative to its tensor's largest magnitude. A step whose floor is near TOL
    is ill-conditioned (ReLU kinks and batchnorm's cancellations; 32x32 maps
    through the cifar stem give 1e-3..7e-3): no float32 implementation, torch's
    included, can agree with float64 to TOL there.
  - the yardstick: torch's own float32 gradients against its float64 ones.
AdamW's first step moves each weight by lr * g/(|g| + eps), a sign of g: where
the reference |g| <= TOL * max|g| (a gradient we only hold to TOL cannot fix
its sign) the weight is held to 2 lr + TOL * max|w| instead, and counted.

    /usr/bin/python3 tools/torchref/parity.py DIR [--float32] [--informational]

Exit status 1 when anything is outside the tolerance, unless --informational
(then the verdict is printed, with the floor, and the status is 0).
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision

TOL = 1e-4


def read_safetensors(path):
    """The format: 8-byte little-endian header length, a JSON header, raw data."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    data = buf[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[t["dtype"]]
        out[name] = np.frombuffer(data[a:b], dtype=dtype).reshape(t["shape"]).copy()
    return out


def build(cfg):
    m = torchvision.models.resnet18(weights=None)
    if cfg["stem"] == "cifar":
        m.conv1 = torch.nn.Conv2d(3, cfg["width"], 3, 1, 1, bias=False)
        m.maxpool = torch.nn.Identity()
    m.fc = torch.nn.Identity()
    h, d = cfg["proj_hidden"], cfg["proj_dim"]
    if cfg["proj_bn"]:
        head = [torch.nn.Linear(512, h, bias=False), torch.nn.BatchNorm1d(h), torch.nn.ReLU(), torch.nn.Linear(h, d)]
    else:
        head = [torch.nn.Linear(512, h), torch.nn.ReLU(), torch.nn.Linear(h, d)]
    m.projector = torch.nn.Sequential(*head)
    return m


class SimCLR(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.net = build(cfg)

    def forward(self, x):
        return self.net.projector(self.net(x))


def load_model(cfg, init, dtype):
    """A fresh SimCLR model in dtype with the dump's initial weights, in training mode."""
    m = SimCLR(cfg).to(dtype)
    sd = {"net." + k: torch.from_numpy(v) for k, v in init.items()}
    missing, unexpected = m.load_state_dict(sd, strict=False)
    if missing or unexpected:
        sys.exit(f"checkpoint does not match torchvision's layout: missing {missing}, unexpected {unexpected}")
    m.train()
    return m


def ntxent(h, temperature):
    z = torch.nn.functional.normalize(h, dim=1)
    n2 = z.shape[0]
    s = z @ z.t() / temperature
    s = s.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    pos = (torch.arange(n2) + n2 // 2) % n2
    return torch.nn.functional.cross_entropy(s, pos)


def lars_step(params, lr, momentum, wd, eta, nesterov):
    """SimCLR's LARS: per tensor g' = g + wd*w and trust = eta*||w||/||g'|| (1 if
    a norm is 0), excluded tensors: raw g, trust 1; v = m*v + lr*trust*g';
    w -= v (Nesterov: w -= m*v + lr*trust*g'). v starts at 0."""
    with torch.no_grad():
        for p, excluded in params:
            g = p.grad.clone()
            trust = 1.0
            if not excluded:
                g += wd * p
                wn, gn = p.norm(), g.norm()
                if wn > 0 and gn > 0:
                    trust = eta * wn / gn
            v = lr * trust * g  # momentum buffer after its first update
            p -= momentum * v + lr * trust * g if nesterov else v


def compare(name, got, want, report, loose=None, loose_bound=0.0):
    """Appends (name, err, ok, note, normalized err). loose: a mask of elements
    held only to |got - want| <= loose_bound + TOL * max|want| (AdamW's
    undetermined signs); the rest are held to TOL * max|want|."""
    got = got.astype(np.float64)
    want = want.astype(np.float64)
    if got.shape != want.shape:
        report.append((name, float("inf"), False, f"shape {got.shape} vs {want.shape}", float("inf")))
        return
    m = np.abs(want).max()
    diff = np.abs(got - want)
    note = ""
    ok_loose = True
    if loose is not None and loose.any():
        ok_loose = bool((diff[loose] <= loose_bound + TOL * m).all())
        note = f", {int(loose.sum())} undetermined-sign elements within 2 lr: {ok_loose}"
        diff = np.where(loose, 0.0, diff)
    err = diff.max() / m if m > 0 else np.abs(got).max()
    nw = np.linalg.norm(want)
    nerr = np.linalg.norm(got - want) / nw if nw > 0 else 0.0
    report.append((name, err, err <= TOL and ok_loose, f"(normalized {nerr:.2e}{note})", nerr))


def perturbed_grads(fresh, x, temperature, seed):
    """The float64 step from the weights times (1 + 2^-24 e): the floor."""
    m = fresh()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(1 + 2.0**-24 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    ntxent(m(x), temperature).backward()
    return {n[4:]: p.grad.detach().numpy() for n, p in m.named_parameters()}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    dtype = torch.float32 if "--float32" in sys.argv else torch.float64
    informational = "--informational" in sys.argv
    step = json.load(open(f"{d}/step.json"))
    cfg = step["model"]
    if cfg["arch"] != "resnet18":
        sys.exit("parity.py replays resnet18 only")
    init = read_safetensors(f"{d}/init.safetensors")
    grads = read_safetensors(f"{d}/grads.safetensors")
    views = read_safetensors(f"{d}/views.safetensors")["views"]  # (2N, S, S, 4)
    x = torch.from_numpy(views[..., :cfg["in_channels"]].transpose(0, 3, 1, 2).copy()).to(dtype)

    def fresh():
        return load_model(cfg, init, dtype)

    report = []
    m = fresh()
    loss = ntxent(m(x), step["temperature"])
    loss.backward()
    for opt, run in sorted(step["runs"].items()):
        rel = abs(run["loss"] - loss.item()) / abs(loss.item())
        report.append((f"loss ({opt} run: {run['loss']:.7f}, torch {loss.item():.7f})", rel, rel <= TOL, "", rel))
    for name, p in m.named_parameters():
        compare("grad " + name[4:], grads[name[4:]], p.grad.detach().numpy(), report)
    ref = {n[4:]: p.grad.detach().numpy().copy() for n, p in m.named_parameters()}
    floor = {}
    if dtype == torch.float64:
        for seed in (1, 2):
            for n, g in perturbed_grads(fresh, x, step["temperature"], seed).items():
                mx = np.abs(ref[n]).max()
                f = np.abs(g - ref[n]).max() / mx if mx > 0 else 0.0
                floor[n] = max(floor.get(n, 0.0), f)
    # The yardstick: PyTorch's own float32 gradients against the reference.
    yard = []
    if dtype == torch.float64:
        m32 = SimCLR(cfg)
        m32.load_state_dict({k: v.float() for k, v in fresh().state_dict().items()})
        m32.train()
        ntxent(m32(x.float()), step["temperature"]).backward()
        ref64 = dict(m.named_parameters())
        for name, p in m32.named_parameters():
            compare(name, p.grad.detach().numpy(), ref64[name].grad.detach().numpy(), yard)

    updates = []
    for opt, run in sorted(step["runs"].items()):
        m = fresh()
        ntxent(m(x), step["temperature"]).backward()
        named = [(n[4:], p) for n, p in m.named_parameters()]
        before = {n: p.detach().clone().numpy() for n, p in named}
        decay = [p for n, p in named if p.dim() > 1]
        nodecay = [p for n, p in named if p.dim() <= 1]
        lr, wd, mom = run["lr"], step["weight_decay"], step["momentum"]
        groups = [{"params": decay, "weight_decay": wd}, {"params": nodecay, "weight_decay": 0.0}]
        if opt == "sgd":
            torch.optim.SGD(groups, lr=lr, momentum=mom, nesterov=run["nesterov"]).step()
        elif opt == "adamw":
            torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8).step()
        elif opt == "lars":
            lars_step([(p, p.dim() <= 1) for _, p in named], lr, mom, wd, step["lars_eta"], run["nesterov"])
        after = read_safetensors(f"{d}/after_{opt}.safetensors")
        sd = {k[4:]: v.detach().numpy() for k, v in m.state_dict().items()}
        for name, v in sd.items():
            if name.endswith("num_batches_tracked"):
                if int(after[name]) != int(v):
                    report.append((f"{opt}: {name}", float("inf"), False, f"{int(after[name])} vs {int(v)}", float("inf")))
                continue
            if opt == "adamw" and name in ref:
                g = np.abs(ref[name])
                compare(f"{opt}: {name}", after[name], v, report, loose=g <= TOL * g.max(), loose_bound=2 * lr)
            else:
                compare(f"{opt}: {name}", after[name], v, report)
        for name, _ in named:
            got, want = after[name] - init[name], sd[name] - before[name]
            m_ = np.abs(want).max()
            updates.append((opt, name, np.abs(got - want).max() / m_ if m_ > 0 else 0.0))

    bad = [r for r in report if not r[2]]
    worst, worstn = {}, {}
    for name, err, ok, _, nerr in report:
        kind = name.split(" ")[0] if not name.startswith(("sgd:", "lars:", "adamw:")) else name.split(":")[0]
        worst[kind] = max(worst.get(kind, 0.0), err)
        worstn[kind] = max(worstn.get(kind, 0.0), nerr)
    print(f"parity: {d}: resnet18, {cfg['stem']} stem, width {cfg['width']}, batch {step['batch']} "
          f"(2x{step['batch']} views of {cfg['image_size']}px), torch {torch.__version__} in {str(dtype)[6:]}")
    print(f"  {len(report)} tensors/values compared, tolerance max|vkclr - torch| <= {TOL:g} * max|torch| per tensor")
    for kind, err in worst.items():
        print(f"  worst {kind:8s} {err:.2e}   (normalized error, worst tensor: {worstn[kind]:.2e})")
    if yard:
        print(f"  (yardstick) torch float32 gradients vs float64: worst {max(r[1] for r in yard):.2e}, "
              f"{sum(not r[2] for r in yard)} of {len(yard)} tensors outside {TOL:g}")
    if floor:
        wf = max(floor.values())
        nf = sum(f > TOL for f in floor.values())
        verdict = "float32 can meet the tolerance here" if wf <= TOL / 10 else (
            "ill-conditioned: float32 cannot be held to the tolerance here" if wf > TOL else "near the tolerance")
        print(f"  (floor) float64 gradients from weights*(1+2^-24 e): worst change {wf:.2e}, "
              f"{nf} of {len(floor)} tensors over {TOL:g}: {verdict}")
        gr = [(r[0][5:], r[1]) for r in report if r[0].startswith("grad ")]
        ratio = max(e / max(floor[n], 1e-12) for n, e in gr)
        print(f"  (floor) worst vkclr gradient error / that tensor's floor: {ratio:.1f}")
    upd = {}
    for opt, name, err in updates:
        upd[opt] = max(upd.get(opt, 0.0), err)
    print("  (informational) worst update error relative to the tensor's largest update: " +
          ", ".join(f"{o} {e:.2e}" for o, e in sorted(upd.items())))
    for name, err, _, note, _ in bad:
        print(f"  FAIL {name}: {err:.3g} {note}")
    print("parity: " + ("FAIL" if bad else "ok") + (" (informational)" if informational else ""))
    sys.exit(1 if bad and not informational else 0)


if __name__ == "__main__":
    main()

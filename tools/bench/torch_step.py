#!/usr/bin/env python3
"""One SimCLR training step in PyTorch, timed: the reference for `vkclr bench step`.

Model: a torchvision-structured ResNet-18 (basic blocks, torchvision parameter
names) with the CIFAR stem (3x3 conv, stride 1, no max pool), base width W
(channels W, 2W, 4W, 8W), 3x32x32 inputs; projection head Linear(8W, H) -> ReLU
-> Linear(H, D). Loss: NT-Xent over the 2B embeddings (L2-normalised,
temperature 0.5, diagonal masked with -inf, positives i <-> i+B, mean
cross-entropy). Optimiser: SGD (momentum 0.9, weight decay 5e-4) or LARS as in
the SimCLR reference. The data is synthetic and already on the device, so a
step is forward + loss + backward + optimiser update and nothing else.

With --memory-format auto (the default) both memory formats are measured, each
on a fresh model, and the faster one is reported (both medians are in the JSON).

Runs with Debian 12's python3-torch 1.13.1 (`/usr/bin/python3`; install
libopenblas0-pthread for a real BLAS) and with current PyTorch on CUDA.

    /usr/bin/python3 tools/bench/torch_step.py --batch-size 64 --threads 2 --json
    python3 tools/bench/torch_step.py --device cuda --tf32 off --json
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def blas_in_use():
    """Which BLAS torch's dense products run on: "openblas", "mkl", "blis", "reference"
    (Debian's libblas3, many times slower: install libopenblas0-pthread), the library's file
    name for others, or "unknown". Debian's torch links libblas.so.3, which the alternatives
    system points at one of several; the file that defines its sgemm_ is the answer. Builds
    without libblas.so.3 (pip's, with MKL inside) report torch's own build setting."""
    import ctypes
    try:
        # RTLD_NOLOAD: only a libblas.so.3 torch itself loaded (pip's torch may sit beside an unused one).
        blas = ctypes.CDLL("libblas.so.3", mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        addr = ctypes.cast(blas.sgemm_, ctypes.c_void_p)

        class DlInfo(ctypes.Structure):
            _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                        ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]

        info = DlInfo()
        if not ctypes.CDLL(None).dladdr(addr, ctypes.byref(info)) or not info.fname:
            return "unknown"
        path = os.path.realpath(info.fname.decode())
    except (OSError, AttributeError):
        cfg = torch.__config__.show()
        i = cfg.find("BLAS_INFO=")
        return cfg[i + 10:].split(",")[0].strip() if i >= 0 else "unknown"
    for key in ("openblas", "mkl", "blis"):
        if key in path:
            return key
    if os.path.basename(os.path.dirname(path)) == "blas":  # Debian's reference: .../blas/libblas.so.3.x
        return "reference"
    return os.path.basename(path)


# --- model -------------------------------------------------------------------


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision's resnet18 without fc, CIFAR stem: conv1 3x3/1, no max pool."""

    def __init__(self, width=64, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        planes = [width, 2 * width, 4 * width, 8 * width]
        inplanes = width
        for i, (p, s) in enumerate(zip(planes, [1, 2, 2, 2])):
            setattr(self, "layer%d" % (i + 1), nn.Sequential(BasicBlock(inplanes, p, s), BasicBlock(p, p, 1)))
            inplanes = p
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.out_features = inplanes
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)


class SimCLR(nn.Module):
    def __init__(self, width, proj_hidden, proj_dim):
        super().__init__()
        self.encoder = ResNet18(width)
        self.head = nn.Sequential(
            nn.Linear(self.encoder.out_features, proj_hidden), nn.ReLU(inplace=True), nn.Linear(proj_hidden, proj_dim)
        )

    def forward(self, x):
        return self.head(self.encoder(x))


def nt_xent(z, temperature=0.5):
    """NT-Xent over 2B embeddings; row i's positive is i+B (and i+B's is i)."""
    n = z.shape[0]
    b = n // 2
    z = F.normalize(z, dim=1)
    sim = (z @ z.t()) / temperature
    eye = torch.eye(n, dtype=torch.bool, device=z.device)
    sim = sim.masked_fill(eye, float("-inf"))
    idx = torch.arange(n, device=z.device)
    target = (idx + b) % n
    return F.cross_entropy(sim, target)


# --- LARS --------------------------------------------------------------------


class LARS(torch.optim.Optimizer):
    """LARS as in the SimCLR reference (google-research/simclr lars_optimizer.py,
    classic momentum): g += wd*w; trust = eta*||w||/||g|| (1 where either norm is
    0); v = m*v + lr*trust*g; w -= v. Groups with lars=False (biases, BN) get
    neither weight decay nor the trust ratio."""

    def __init__(self, groups, lr, momentum=0.9, weight_decay=1e-6, eta=0.001):
        super().__init__(groups, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta, lars=True))

    @torch.no_grad()
    def step(self, closure=None):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if g["lars"]:
                    if g["weight_decay"]:
                        d = d.add(p, alpha=g["weight_decay"])
                    w_norm = torch.linalg.vector_norm(p)
                    g_norm = torch.linalg.vector_norm(d)
                    one = torch.ones_like(w_norm)
                    trust = torch.where(
                        w_norm > 0, torch.where(g_norm > 0, g["eta"] * w_norm / g_norm, one), one
                    )
                    d = d.mul(trust)
                st = self.state[p]
                if "v" not in st:
                    st["v"] = torch.zeros_like(p)
                v = st["v"]
                v.mul_(g["momentum"]).add_(d, alpha=g["lr"])
                p.sub_(v)


def make_optimizer(model, kind, lr, weight_decay):
    if kind == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    lars, plain = [], []
    for name, p in model.named_parameters():
        (plain if p.ndim <= 1 else lars).append(p)  # biases and BN weights/biases are 1-D
    return LARS([dict(params=lars, lars=True), dict(params=plain, lars=False, weight_decay=0.0)],
                lr=lr, weight_decay=weight_decay)


# --- timing ------------------------------------------------------------------


def set_tf32(on):
    """TF32 for matmul and cuDNN convolutions: the new API where it exists (torch >= 2.9)."""
    m = torch.backends.cuda.matmul
    if hasattr(m, "fp32_precision") and hasattr(torch.backends.cudnn, "conv"):
        mode = "tf32" if on else "ieee"
        m.fp32_precision = mode
        torch.backends.cudnn.conv.fp32_precision = mode
    else:
        m.allow_tf32 = on
        torch.backends.cudnn.allow_tf32 = on


def measure(args, device, memory_format, log):
    torch.manual_seed(0)
    model = SimCLR(args.width, args.proj_hidden, args.proj_dim).to(device)
    model = model.to(memory_format=memory_format)
    model.train()
    opt = make_optimizer(model, args.optimizer, args.lr, args.weight_decay)
    x = torch.randn(2 * args.batch_size, 3, 32, 32, device=device).contiguous(memory_format=memory_format)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    times, cpu_times = [], []
    loss = None
    for i in range(args.warmup + args.steps):
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = nt_xent(model(x), args.temperature)
        loss.backward()
        opt.step()
        sync()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        if i >= args.warmup:
            times.append(dt)
            cpu_times.append(dc)
        log("  %s step %d%s: %.1f ms, loss %.4f" % (
            fmt_name(memory_format), i, " (warm-up)" if i < args.warmup else "", dt * 1e3, loss.item()))
    params = sum(p.numel() for p in model.parameters())
    return statistics.median(times), times, statistics.median(cpu_times), params, loss.item()


def fmt_name(mf):
    return "channels_last" if mf == torch.channels_last else "contiguous"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-size", type=int, default=64, help="images per view; a step processes 2B")
    ap.add_argument("--width", type=int, default=64, help="ResNet-18 base width W (channels W,2W,4W,8W)")
    ap.add_argument("--proj-hidden", type=int, default=512)
    ap.add_argument("--proj-dim", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: all cores)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--tf32", choices=["on", "off"], default="off", help="TF32 matmul/conv (CUDA only)")
    ap.add_argument("--optimizer", choices=["sgd", "lars"], default="sgd")
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=5e-4, help="SGD's, or LARS's on weights only")
    ap.add_argument("--temperature", type=float, default=0.5)
    ap.add_argument("--memory-format", choices=["auto", "contiguous", "channels_last"], default="auto",
                    help="auto: measure both, report the faster")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout; progress on stderr")
    args = ap.parse_args()
    if args.batch_size < 1 or args.width < 1 or args.steps < 1 or args.warmup < 0:
        ap.error("batch size, width and steps must be positive")

    def log(msg):
        print(msg, file=sys.stderr if args.json else sys.stdout, flush=True)

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    torch.set_num_threads(args.threads if args.threads > 0 else cores)

    if args.device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("torch_step.py: --device cuda but torch.cuda.is_available() is false")
        device = torch.device("cuda")
        dev_name = torch.cuda.get_device_name(device)
        torch.backends.cudnn.benchmark = True
        set_tf32(args.tf32 == "on")
        tf32 = args.tf32 == "on"
    else:
        device = torch.device("cpu")
        dev_name = "cpu"
        tf32 = False

    formats = {"contiguous": [torch.contiguous_format], "channels_last": [torch.channels_last],
               "auto": [torch.contiguous_format, torch.channels_last]}[args.memory_format]
    by_format = {}
    best = None
    for mf in formats:
        log("torch_step: %s, %s, batch 2x%d, width %d, %d threads" % (
            dev_name, fmt_name(mf), args.batch_size, args.width, torch.get_num_threads()))
        med, times, cpu, params, loss = measure(args, device, mf, log)
        by_format[fmt_name(mf)] = round(med * 1e3, 3)
        if best is None or med < best[0]:
            best = (med, times, cpu, params, loss, fmt_name(mf))
    med, times, cpu, params, loss, mf_name = best
    n = 2 * args.batch_size
    res = {
        "tool": "pytorch",
        "torch_version": torch.__version__,
        "device": dev_name,
        "threads": torch.get_num_threads(),
        "blas": blas_in_use(),
        "arch": "resnet18",
        "width": args.width,
        "batch": args.batch_size,
        "images_per_step": n,
        "step_ms": round(med * 1e3, 3),
        "images_per_s": round(n / med, 2),
        "tf32": tf32,
        "params": params,
        "memory_format": mf_name,
        "step_ms_by_format": by_format,
        "step_ms_all": [round(t * 1e3, 3) for t in times],
        # Process CPU time per step (all threads), median: on a shared machine,
        # step_cpu_ms / threads estimates the step on idle cores (CPU runs only).
        "step_cpu_ms": round(cpu * 1e3, 3),
        "proj_hidden": args.proj_hidden,
        "proj_dim": args.proj_dim,
        "optimizer": args.optimizer,
        "weight_decay": args.weight_decay,
        "steps": args.steps,
        "warmup": args.warmup,
        "cudnn_benchmark": bool(args.device == "cuda"),
        "final_loss": round(loss, 5),
    }
    if args.json:
        print(json.dumps(res))
    else:
        print("%s: %.1f ms/step, %.1f images/s (%s, %d params, torch %s)" % (
            dev_name, res["step_ms"], res["images_per_s"], mf_name, params, torch.__version__))


if __name__ == "__main__":
    main()

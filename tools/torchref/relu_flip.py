#!/usr/bin/python3
"""relu_flip.py: is a parity outlier one ReLU decision? For a parity dump DIR
(tools/torchref/dump), a module LAYER whose output feeds a ReLU (a batchnorm,
e.g. net.layer4.0.bn1) and a channel CH (the one parity's worst tensor is off
in), finds that channel's pre-activations closest to zero and replays the
float64 step with each one's ReLU decision flipped in turn (the value is
negated, the gradient kept), printing vkclr's worst gradient error against
each reference. If one flip takes the error from ~1e-1 to the level of the
other tensors, the outlier is that tie, not a bug.

    /usr/bin/python3 tools/torchref/relu_flip.py DIR LAYER CH
"""
import json
import sys

import numpy as np
import torch

import parity as P


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    d, layer, ch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    step = json.load(open(f"{d}/step.json"))
    cfg = step["model"]
    init = P.read_safetensors(f"{d}/init.safetensors")
    grads = P.read_safetensors(f"{d}/grads.safetensors")
    views = P.read_safetensors(f"{d}/views.safetensors")["views"]
    x = torch.from_numpy(views[..., :cfg["in_channels"]].transpose(0, 3, 1, 2).copy()).double()

    def step_grads(hook=None):
        m = P.load_model(cfg, init, torch.float64)
        rec = {}
        mod = dict(m.named_modules())[layer]
        mod.register_forward_hook(lambda _m, _i, o: rec.__setitem__("y", o.detach().clone()))
        if hook:
            mod.register_forward_hook(hook)
        P.ntxent(m(x), step["temperature"]).backward()
        return {n[4:]: p.grad.numpy() for n, p in m.named_parameters()}, rec["y"]

    def worst(ref):
        return max((np.abs(grads[n] - g).max() / np.abs(g).max(), n) for n, g in ref.items())

    ref, y = step_grads()
    a = y[:, ch].abs().flatten()
    order = torch.argsort(a)[:3].tolist()
    s = y.std().item()
    print(f"{layer} channel {ch}: pre-activations closest to 0 (|y|/std): " +
          ", ".join(f"#{k} {a[k].item() / s:.1e}" for k in order))
    e, n = worst(ref)
    print(f"vkclr vs float64: worst gradient error {e:.2e} ({n})")
    for k in order:
        def flip(_m, _i, o, k=k):
            one = torch.zeros(o[:, ch].numel(), dtype=o.dtype)
            one[k] = 1
            mask = torch.zeros_like(o)
            mask[:, ch] = one.view(o[:, ch].shape)
            return o - 2 * o.detach() * mask
        e, n = worst(step_grads(flip)[0])
        print(f"  with #{k}'s ReLU decision flipped: worst {e:.2e} ({n})")


if __name__ == "__main__":
    main()

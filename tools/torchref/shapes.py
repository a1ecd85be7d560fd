#!/usr/bin/python3
"""shapes.py: records the output shape of every layer of torchvision's
ResNet-18/34/50 with vkclr's two stems, for model.TestActivationShapes.

cifar stem: conv1 3x3 stride 1 pad 1 and no max pool (SimCLR's CIFAR
variant); imagenet stem: torchvision's unchanged (7x7 stride 2 pad 3, then
3x3 max pool stride 2 pad 1). Sizes include odd ones, where a wrong padding
or rounding changes a shape. Width 64, torchvision's.

    /usr/bin/python3 tools/torchref/shapes.py > model/testdata/torchvision_shapes.json

Needs python3-torch and python3-torchvision (tools/deps.sh installs them).
"""
import json
import sys

import torch
import torchvision

SIZES = {"cifar": [32, 33, 17], "imagenet": [224, 97, 64]}


def build(arch, stem):
    m = getattr(torchvision.models, arch)(weights=None)
    if stem == "cifar":
        m.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        m.maxpool = torch.nn.Identity()
    return m.eval()


def shapes(m, size, stem):
    out = {}
    hooks = []
    for name, mod in m.named_modules():
        kinds = (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.MaxPool2d, torch.nn.AdaptiveAvgPool2d,
                 torchvision.models.resnet.BasicBlock, torchvision.models.resnet.Bottleneck)
        if isinstance(mod, kinds):
            hooks.append(mod.register_forward_hook(
                lambda _m, _i, o, name=name: out.__setitem__(name, list(o.shape[1:]))))
    with torch.no_grad():
        m(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    return out


def main():
    rec = {"torch": torch.__version__, "torchvision": torchvision.__version__,
           "layout": "per layer: [C, H, W] of its output", "models": {}}
    for arch in ["resnet18", "resnet34", "resnet50"]:
        for stem, sizes in SIZES.items():
            m = build(arch, stem)
            for s in sizes:
                rec["models"][f"{arch}/{stem}/{s}"] = shapes(m, s, stem)
    # One layer per line: readable diffs when torchvision or the list changes.
    models = ",\n".join(
        f"  {json.dumps(key)}: {{\n" + ",\n".join(f"   {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(m.items())) + "\n  }"
        for key, m in sorted(rec.pop("models").items()))
    head = ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(rec.items()))
    sys.stdout.write("{\n" + head + ',\n "models": {\n' + models + "\n }\n}\n")

if __name__ == "__main__":
    main()

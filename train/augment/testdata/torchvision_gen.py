#!/usr/bin/python3
"""Writes torchvision.json: torchvision's tensor transforms applied to one
small image with fixed parameters, for TestTorchvisionFixture.

Run with Debian's python3-torchvision (0.14): /usr/bin/python3 torchvision_gen.py
"""
import json

import torch
import torchvision.transforms.functional as F

g = torch.Generator().manual_seed(0)
H, W = 9, 11
img_u8 = torch.randint(0, 256, (3, H, W), generator=g, dtype=torch.uint8)
img = img_u8.float() / 255  # (C, H, W) in [0, 1]


def hwc(t):
    return [round(float(v), 7) for v in t.permute(1, 2, 0).reshape(-1)]


cases = []


def add(name, out, **params):
    cases.append({"name": name, "params": params, "out": hwc(out)})


for top, left, h, w, size in [(1, 2, 5, 6, 8), (0, 0, 9, 11, 4), (2, 3, 7, 7, 3), (0, 1, 9, 9, 9)]:
    out = F.resized_crop(img, top, left, h, w, [size, size],
                         interpolation=F.InterpolationMode.BILINEAR, antialias=True)
    add("resized_crop", out, top=top, left=left, h=h, w=w, size=size)
add("hflip", F.hflip(img))
for f in [0.0, 0.55, 1.3]:
    add("brightness", F.adjust_brightness(img, f), factor=f)
for f in [0.0, 0.6, 1.4]:
    add("contrast", F.adjust_contrast(img, f), factor=f)
for f in [0.0, 0.35, 1.7]:
    add("saturation", F.adjust_saturation(img, f), factor=f)
for f in [-0.5, -0.08, 0.0, 0.31, 0.5]:
    add("hue", F.adjust_hue(img, f), factor=f)
add("grayscale", F.rgb_to_grayscale(img, num_output_channels=3))
for k, s in [(3, 0.5), (5, 1.2)]:
    add("blur", F.gaussian_blur(img[:, :9, :9], [k, k], [s, s]), kernel=k, sigma=s, crop=9)

with open("torchvision.json", "w") as f:
    json.dump({"torchvision": __import__("torchvision").__version__, "h": H, "w": W,
               "image": [int(v) for v in img_u8.permute(1, 2, 0).reshape(-1)], "cases": cases}, f)
    f.write("\n")

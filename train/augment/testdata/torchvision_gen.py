#!/usr/bin/python3
"""Writes torchvision.json: torchvision's tensor transforms applied to one
small image with fixed parameters, for TestTorchvisionFixture.

Run with Debian's python3-torchvision (0.14): /usr/bin/python3 torchvision_gen.py
"""
import json

import torch
import torchvision.transforms as T
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

# Non-square images: RandomResizedCrop's own parameters and output with
# torch's random draws replaced by scripted unit values u (uniform_(a, b)
# returns a + (b - a) * u, randint(lo, hi) lo + floor(u * (hi - lo))), so the
# Go side can feed the same values to cropParams; and evaluation's
# Resize(S) + CenterCrop(S).
H2, W2 = 20, 45
img2_u8 = torch.randint(0, 256, (3, H2, W2), generator=g, dtype=torch.uint8)
img2 = img2_u8.float() / 255


class Scripted:
    def __init__(self, us):
        self.us, self.k = list(us), 0

    def take(self):
        u = self.us[self.k]
        self.k += 1
        return u


def random_resized_crop(im, size, scale, ratio, us):
    s = Scripted(us)
    empty, randint = torch.empty, torch.randint

    class Uniform:
        def uniform_(self, a, b):
            a, b = float(a), float(b)
            return torch.tensor([a + (b - a) * s.take()])

    torch.empty = lambda *a, **k: Uniform()
    torch.randint = lambda lo, hi, size: torch.tensor([lo + int(s.take() * (hi - lo))])
    try:
        t = T.RandomResizedCrop(size, scale=scale, ratio=ratio, antialias=True)
        i, j, h, w = t.get_params(im, t.scale, t.ratio)
        s.k = 0
        out = t(im)
    finally:
        torch.empty, torch.randint = empty, randint
    return (i, j, h, w), out, s.k


ug = torch.Generator().manual_seed(1)
for im_idx, im in [(0, img), (1, img2)]:
    for size, scale, ratio in [(8, (0.08, 1.0), (3 / 4, 4 / 3)), (16, (0.5, 1.0), (0.5, 2.0)),
                               (5, (0.9, 1.0), (3 / 4, 4 / 3))]:
        for _ in range(3):
            us = [float(v) for v in torch.rand(40, generator=ug, dtype=torch.float64)]
            (i, j, h, w), out, used = random_resized_crop(im, size, scale, ratio, us)
            add("random_resized_crop", out, img=im_idx, size=size, smin=scale[0], smax=scale[1],
                rmin=ratio[0], rmax=ratio[1], top=i, left=j, h=h, w=w, draws=used,
                **{"u%d" % k: us[k] for k in range(used)})
for im_idx, im in [(0, img), (1, img2)]:
    for size in [4, 7, 12]:
        add("resize_center_crop", F.center_crop(F.resize(im, size, antialias=True), size), img=im_idx, size=size)

with open("torchvision.json", "w") as f:
    json.dump({"torchvision": __import__("torchvision").__version__, "h": H, "w": W,
               "image": [int(v) for v in img_u8.permute(1, 2, 0).reshape(-1)],
               "h2": H2, "w2": W2, "image2": [int(v) for v in img2_u8.permute(1, 2, 0).reshape(-1)],
               "cases": cases}, f)
    f.write("\n")

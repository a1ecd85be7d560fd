#!/usr/bin/python3
"""augment_torch.py DIR: torchvision's DataLoader on an image folder with
SimCLR's ImageNet transforms (PIL decode, two views per image), the reference
`vkclr bench augment` is compared with by tools/bench/folder.sh.

The transforms are the ones vkclr's simclr-imagenet preset reproduces:
RandomResizedCrop(S), RandomHorizontalFlip, ColorJitter(0.8, 0.8, 0.8, 0.2)
with p 0.8, RandomGrayscale(0.2), GaussianBlur(S/10 odd, sigma 0.1-2) with
p 0.5, ToTensor, Normalize. Prints images/s (each image gives two views).
"""
import argparse
import json
import time

import torch
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder


class Pair:
    def __init__(self, t):
        self.t = t

    def __call__(self, x):
        return self.t(x), self.t(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    k = a.size // 10
    k += 1 - k % 2
    tf = T.Compose([
        T.RandomResizedCrop(a.size),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomApply([T.GaussianBlur(max(k, 3), sigma=(0.1, 2.0))], p=0.5),
        T.ToTensor(),
        T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])
    ds = ImageFolder(a.dir, transform=Pair(tf))
    dl = DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True,
                    persistent_workers=True)
    it = iter(dl)
    next(it)  # warm-up: the workers have started and filled their queues
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < a.seconds:
        next(it)
        n += a.batch
    el = time.perf_counter() - t0
    r = {"images_per_s": n / el, "images": n, "seconds": el, "batch": a.batch, "workers": a.workers,
         "size": a.size, "torch_version": torch.__version__, "torchvision_version": torchvision.__version__}
    if a.json:
        print(json.dumps(r))
    else:
        print(f"torchvision DataLoader: {r['images_per_s']:.0f} images/s ({a.workers} workers, batch {a.batch}, {a.size} px)")


if __name__ == "__main__":
    main()

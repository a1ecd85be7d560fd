#!/bin/sh
# deps.sh: what the tools/bench Python references need on Debian 12, through tools/deps.sh:
#   python3-torch          PyTorch 1.13.1 for /usr/bin/python3 (CPU): torch_step.py
#   python3-torchvision    torchvision 0.14 (PIL decode, transforms, DataLoader): augment_torch.py
#   libopenblas0-pthread   a real BLAS for it (the reference BLAS is ~100x slower)
exec "$(dirname "$0")/../deps.sh" python3-torch python3-torchvision libopenblas0-pthread "$@"

#!/bin/sh
# deps.sh: what tools/bench/torch_step.py needs on Debian 12, through tools/deps.sh:
#   python3-torch          PyTorch 1.13.1 for /usr/bin/python3 (CPU)
#   libopenblas0-pthread   a real BLAS for it (the reference BLAS is ~100x slower)
exec "$(dirname "$0")/../deps.sh" python3-torch libopenblas0-pthread "$@"

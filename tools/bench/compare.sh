#!/bin/sh
# compare.sh VKCLR: vkclr's SimCLR training step beside PyTorch's on this machine, in one run.
# Cases: ResNet-18 (CIFAR stem) width 64 at batch 2x64, and width 16 at batch 2x256; head
# 8W -> 512 -> 128, SGD. Prints a table with images/s and the ratio, and keeps the JSON in
# bench-results/ (vkclr's holds the per-op breakdown).
set -eu
vkclr=${1:-bin/vkclr}
here=$(dirname "$0")
out=bench-results
mkdir -p "$out"
threads=$(nproc)
for c in "64 64" "16 256"; do
	set -- $c
	w=$1 b=$2
	echo "== resnet18 width $w, batch 2x$b" >&2
	"$vkclr" bench step --arch resnet18 --width "$w" --batch-size "$b" --proj-hidden 512 --proj-dim 128 --steps 3 --json >"$out/vkclr-w$w-b$b.json"
	/usr/bin/python3 "$here/torch_step.py" --width "$w" --batch-size "$b" --proj-hidden 512 --proj-dim 128 \
		--steps 3 --warmup 1 --threads "$threads" --json >"$out/torch-w$w-b$b.json"
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
print(f"{'case':<26}{'vkclr img/s':>12}{'torch img/s':>12}{'ratio':>8}{'vkclr step/device':>19}")
for w, b in ((64, 64), (16, 256)):
    v = json.load(open(os.path.join(out, f"vkclr-w{w}-b{b}.json")))
    t = json.load(open(os.path.join(out, f"torch-w{w}-b{b}.json")))
    print(f"{'resnet18 w%d 2x%d' % (w, b):<26}{v['images_per_s']:>12.1f}{t['images_per_s']:>12.1f}"
          f"{v['images_per_s'] / t['images_per_s']:>8.3f}{v['overhead_ratio']:>19.3f}")
    blas = t.get("blas", "unknown")
    print(f"  vkclr on {v['device']}; torch {t['torch_version']} on {t['device']} with {t['threads']} threads, BLAS {blas}")
    if blas == "reference":
        print("  warning: PyTorch ran on the reference BLAS (Debian's libblas3): its products are many times "
              "slower, so this ratio flatters vkclr. Run tools/bench/deps.sh (make bench does) and run again.")
PY

#!/bin/sh
# folder.sh [DIR]: the image-folder benchmark, one command.
#   1. DIR (default runs/imgfolder-50k) is made by tools/genimages when missing:
#      50,000 random-content 256x256 JPEGs in 100 class folders.
#   2. `vkclr train --data DIR --image-size 96` twice with a fresh cache folder: the first
#      run builds the decoded cache (its rate is reported), the second must reuse it; the
#      process's RssAnon is sampled from /proc/PID/status every 0.2 s and its peak reported.
#   3. `vkclr bench augment` on DIR at 96 px beside torchvision's DataLoader (PIL decode,
#      the same SimCLR transforms, 2 workers), back to back, twice each, interleaved.
# Needs python3-torch and python3-torchvision (tools/bench/deps.sh). Results go to
# bench-results/folder/ (summary.json and the logs).
set -eu
dir=${1:-runs/imgfolder-50k}
here=$(dirname "$0")
out=bench-results/folder
seconds=${SECONDS_PER_RUN:-20}
mkdir -p "$out"
"$here/deps.sh"
if [ ! -f "$dir/.complete" ]; then
	go run ./tools/genimages --out "$dir" --n 50000 --classes 100 --size 256
	touch "$dir/.complete"
fi
go build -o bin/vkclr ./cmd/vkclr
vkclr=bin/vkclr
cache=$out/cache
rm -rf "$cache" "$out/run1" "$out/run2"

# peak_rss CMD...: runs CMD, prints its peak RssAnon in kB on fd 3.
peak_rss() {
	"$@" &
	pid=$!
	peak=0
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		if [ -n "$v" ] && [ "$v" -gt "$peak" ]; then peak=$v; fi
		sleep 0.2
	done
	wait "$pid"
	echo "$peak" >&3
}

for k in 1 2; do
	echo "== vkclr train run $k" >&2
	peak_rss "$vkclr" train --data "$dir" --image-size 96 --cache-dir "$cache" --out "$out/run$k" \
		--arch resnet18 --width 8 --stem imagenet --batch-size 32 --steps 3 --eval-every 0 \
		--augment simclr-imagenet --optimizer sgd --lr 0.1 2>"$out/train$k.log" 3>"$out/rss$k"
	grep -E 'decoding|cache built|from the cache|could not be read' "$out/train$k.log" >&2 || true
	echo "   peak RssAnon $(cat "$out/rss$k") kB" >&2
done

for round in 1 2; do
	echo "== augment throughput, round $round" >&2
	"$vkclr" bench augment --data "$dir" --cache-dir "$cache" --image-size 96 --augment simclr-imagenet --workers 2 --batch 128 \
		--outc 3 --seconds "$seconds" --json 2>>"$out/bench.log" >"$out/vkclr-$round.json"
	/usr/bin/python3 "$here/augment_torch.py" "$dir" --size 96 --workers 2 --batch 128 --seconds "$seconds" \
		--json >"$out/torch-$round.json"
done

/usr/bin/python3 - "$out" <<'PY'
import json, os, re, sys
out = sys.argv[1]
log1 = open(os.path.join(out, "train1.log")).read()
log2 = open(os.path.join(out, "train2.log")).read()
m = re.search(r"cache built: (\d+) images in ([\d.]+) s \((\d+) images/s\)", log1)
rss = [int(open(os.path.join(out, f"rss{k}")).read()) for k in (1, 2)]
v = [json.load(open(os.path.join(out, f"vkclr-{r}.json")))["images_per_s"] for r in (1, 2)]
t = [json.load(open(os.path.join(out, f"torch-{r}.json")))["images_per_s"] for r in (1, 2)]
s = {
    "cache_build_images_per_s": int(m.group(3)) if m else None,
    "cache_build_seconds": float(m.group(2)) if m else None,
    "second_run_reused_cache": "from the cache" in log2 and "decoding" not in log2,
    "peak_rss_anon_kib": rss,
    "vkclr_augment_images_per_s": v,
    "torchvision_images_per_s": t,
    "ratio_best": max(v) / max(t),
}
json.dump(s, open(os.path.join(out, "summary.json"), "w"), indent=1)
print(f"cache build: {s['cache_build_images_per_s']} images/s ({s['cache_build_seconds']} s); second run reused it: {s['second_run_reused_cache']}")
print(f"peak RssAnon: train run 1 {rss[0] / 1024:.0f} MiB, run 2 {rss[1] / 1024:.0f} MiB")
print(f"augment at 96 px, 2 workers: vkclr {' / '.join('%.0f' % x for x in v)} images/s, "
      f"torchvision DataLoader {' / '.join('%.0f' % x for x in t)} images/s, ratio (best of each) {s['ratio_best']:.2f}")
PY

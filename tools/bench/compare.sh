#!/bin/sh
# compare.sh VKCLR: vkclr's SimCLR training step beside PyTorch's on this machine, in one run.
# Cases: ResNet-18 (CIFAR stem) width 64 at batch 2x64, and width 16 at batch 2x256; head
# 8W -> 512 -> 128, SGD. Prints a table with images/s and the ratio, and keeps the JSON in
# bench-results/ (vkclr's holds the per-op breakdown). Under the table: the CPU's model, whether it has
# AVX-512, how busy the CPUs were just before the run and the share of CPU time the hypervisor stole
# during it (also in bench-results/host.json), with a warning when the machine was not quiet.
#
# ROUNDS=R (default 1) runs the two sides R times each, alternated (vkclr first in odd rounds,
# PyTorch first in even ones, so a host that drifts one way favours neither), and reports the
# median images/s of each side and the median of the rounds' ratios, with every round listed: on
# a shared VM one round's ratio moves by a quarter between runs minutes apart (BENCHMARKS.md).
# With R > 1 the JSON files are named ...-rN.json.
set -eu
vkclr=${1:-bin/vkclr}
here=$(dirname "$0")
out=bench-results
rounds=${ROUNDS:-1}
case "$rounds" in
'' | *[!0-9]* | 0) echo "compare.sh: ROUNDS=$rounds: want a whole number, 1 or more" >&2; exit 2 ;;
esac
mkdir -p "$out"
threads=$(nproc)
# The host, for the reader of the table: the issue's measure wants a quiet machine with its CPU named.
# From /proc/stat (total, steal, idle jiffies): how busy the CPUs were in the 2 s before the run (other
# processes; the load average also counts a run that just ended), and the share stolen by the
# hypervisor (time it gave the VM's vCPUs to others) during the run.
cpustat() { awk '$1 == "cpu" { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $9, $5 + $6; exit }' /proc/stat; }
pre=$(cpustat)
sleep 2
stat0=$(cpustat)
load0=$(cut -d' ' -f1 /proc/loadavg)
# One side's run of case w, b into its round's file (sfx).
vk() {
	"$vkclr" bench step --arch resnet18 --width "$w" --batch-size "$b" --proj-hidden 512 --proj-dim 128 --steps 3 --json >"$out/vkclr-w$w-b$b$sfx.json"
}
pt() {
	/usr/bin/python3 "$here/torch_step.py" --width "$w" --batch-size "$b" --proj-hidden 512 --proj-dim 128 \
		--steps 3 --warmup 1 --threads "$threads" --json >"$out/torch-w$w-b$b$sfx.json"
}
r=1
while [ "$r" -le "$rounds" ]; do
	sfx=""
	[ "$rounds" -gt 1 ] && sfx="-r$r"
	for c in "64 64" "16 256"; do
		set -- $c
		w=$1 b=$2
		echo "== resnet18 width $w, batch 2x$b, round $r of $rounds" >&2
		if [ $((r % 2)) = 1 ]; then
			vk
			pt
		else
			pt
			vk
		fi
	done
	r=$((r + 1))
done
stat1=$(cpustat)
model=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
avx512=no
grep -qw avx512f /proc/cpuinfo && avx512=yes
/usr/bin/python3 - "$out" "$rounds" "${model:-unknown}" "$avx512" "$threads" "$load0" "$pre" "$stat0" "$stat1" <<'PY'
import json, sys, os, statistics
out, rounds = sys.argv[1], int(sys.argv[2])
model, avx512, cores, load0 = sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
(tp, _, ip), (t0, s0, i0), (t1, s1, _) = ([int(x) for x in a.split()] for a in sys.argv[7:10])
busy = 100.0 * (1 - (i0 - ip) / max(1, t0 - tp))
steal = 100.0 * (s1 - s0) / max(1, t1 - t0)
host = {"cpu": model, "avx512": avx512 == "yes", "cores": cores, "load_at_start": load0,
        "busy_percent_before": round(busy, 1), "steal_percent": round(steal, 1)}
print(f"{'case':<26}{'vkclr img/s':>12}{'torch img/s':>12}{'ratio':>8}{'vkclr step/device':>19}")
for w, b in ((64, 64), (16, 256)):
    sfx = [f"-r{r}" for r in range(1, rounds + 1)] if rounds > 1 else [""]
    v = [json.load(open(os.path.join(out, f"vkclr-w{w}-b{b}{s}.json"))) for s in sfx]
    t = [json.load(open(os.path.join(out, f"torch-w{w}-b{b}{s}.json"))) for s in sfx]
    ratios = [a["images_per_s"] / c["images_per_s"] for a, c in zip(v, t)]
    med = statistics.median
    print(f"{'resnet18 w%d 2x%d' % (w, b):<26}{med(a['images_per_s'] for a in v):>12.1f}"
          f"{med(c['images_per_s'] for c in t):>12.1f}{med(ratios):>8.3f}{med(a['overhead_ratio'] for a in v):>19.3f}")
    if rounds > 1:
        print(f"  {rounds} rounds, medians above; each round's vkclr / torch img/s = ratio: " +
              ", ".join(f"{a['images_per_s']:.1f} / {c['images_per_s']:.1f} = {x:.3f}" for a, c, x in zip(v, t, ratios)))
    blas = sorted({c.get("blas", "unknown") for c in t})
    print(f"  vkclr on {v[0]['device']}; torch {t[0]['torch_version']} on {t[0]['device']} with {t[0]['threads']} threads, BLAS {', '.join(blas)}")
    if "reference" in blas:
        print("  warning: PyTorch ran on the reference BLAS (Debian's libblas3): its products are many times "
              "slower, so this ratio flatters vkclr. Run tools/bench/deps.sh (make bench does) and run again.")
json.dump(host, open(os.path.join(out, "host.json"), "w"))
print(f"host: {model}, AVX-512 {avx512}, {cores} cores; CPUs {busy:.0f}% busy in the 2 s before the run "
      f"(load average {load0:.2f}), {steal:.1f}% of CPU time stolen by the hypervisor during the run")
# On the shared VMs of BENCHMARKS.md, a busy hour lowered vkclr's side more than PyTorch's (width 16
# on one Xeon, the same code: 0.27-0.40 in slow hours, 0.52-0.56 in fast ones), so such a run's ratio
# is the host's as much as the code's.
if busy >= 20.0 or steal >= 5.0:
    print("warning: the machine was not quiet (CPUs 20% or more busy before the run, or 5% or more stolen"
          " during it): compare runs made when it is (vmstat 5)")
PY

#!/bin/sh
# lavapipe-jit.sh: where a vkclr command's time goes inside lavapipe's JIT-compiled shader code, at the
# instruction level. Debian's Mesa 22.3 prints no code (GALLIVM_DEBUG=asm needs a debug build) and perf
# cannot read JIT code once the process has gone, so this samples the running process, then copies its
# anonymous executable mappings (the compiled shaders) out of it with gdb and disassembles them.
#
#   tools/prof/lavapipe-jit.sh [-w WAIT] [-s SECONDS] [-o DIR] -- COMMAND [ARGS...]
#
# COMMAND runs in the background; after WAIT seconds (default 10: past pipeline compilation and the
# warm-up) perf samples it for SECONDS (default 4), gdb dumps the JIT code, COMMAND is stopped, and the
# report lists, for every JIT function with at least 0.5% of the samples: its address range, its size,
# its share, and its hottest instructions. Short functions (under 512 bytes) are lavapipe's helpers
# (a texel fetch is one: eight lanes' 16-byte loads and a 4x4 transpose); long ones are the kernels'
# bodies. DIR (default a new temporary folder) keeps perf.data, code.asm (the whole disassembly) and
# hot.txt (samples per address), to read a loop in full: grep -n ADDRESS code.asm.
#
# The command should run one kernel for the whole sampling window, e.g.
#   tools/prof/lavapipe-jit.sh -- bin/vkclr bench ops --op "(layer1) winograd F(4x4)" --reps 60
# and so it does not tell kernels apart by name: a bench with one kernel, or the sizes and the code,
# do (a GEMM's body is long and mostly vmulps/vaddps; a transform's mostly gathers and stores).
# Needs perf, gdb and objdump: tools/deps.sh profile. Samples skid: a load that misses the cache
# charges the instruction after it.
set -eu
wait_s=10
secs=4
dir=""
while [ $# -gt 0 ]; do
	case "$1" in
	-w) wait_s=$2; shift 2 ;;
	-s) secs=$2; shift 2 ;;
	-o) dir=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "usage: $0 [-w WAIT] [-s SECONDS] [-o DIR] -- COMMAND [ARGS...]" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-w WAIT] [-s SECONDS] [-o DIR] -- COMMAND [ARGS...]" >&2; exit 2; }
for t in perf gdb objdump python3; do
	command -v $t >/dev/null 2>&1 || { echo "$0: $t not found: run tools/deps.sh profile" >&2; exit 1; }
done
[ -n "$dir" ] || dir=$(mktemp -d /tmp/lavapipe-jit.XXXXXX)
mkdir -p "$dir"
"$@" >"$dir/command.log" 2>&1 &
pid=$!
sleep "$wait_s"
if ! kill -0 $pid 2>/dev/null; then
	echo "$0: the command ended within $wait_s s (see $dir/command.log); give it more work or a shorter -w" >&2
	exit 1
fi
perf record -p $pid -o "$dir/perf.data" sleep "$secs" >/dev/null 2>&1
perf report -i "$dir/perf.data" --no-children --sort sym 2>/dev/null |
	awk '$1 ~ /%$/ && $3 ~ /^0x/ {print $3, $1}' >"$dir/hot.txt"
: >"$dir/code.asm"
# The JIT code: executable mappings with no file behind them (the vdso and vsyscall are named).
for r in $(awk '$2 ~ /x/ && $6 == "" {print $1}' /proc/$pid/maps); do
	gdb -p $pid -batch -ex "dump memory $dir/region.bin 0x${r%-*} 0x${r#*-}" >/dev/null 2>&1 || true
	[ -s "$dir/region.bin" ] && objdump -D -b binary -m i386:x86-64 --adjust-vma=0x${r%-*} "$dir/region.bin" >>"$dir/code.asm"
	rm -f "$dir/region.bin"
done
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
python3 - "$dir" <<'EOF'
import re, sys
d = sys.argv[1]
ins, rets = [], []
for line in open(d + "/code.asm"):
    m = re.match(r"\s+([0-9a-f]+):\t[0-9a-f ]+\t(.*)", line)
    if m:
        a = int(m.group(1), 16)
        ins.append((a, m.group(2).strip()))
        if m.group(2).startswith("ret"):
            rets.append(a)
text = dict(ins)
hot = []
for line in open(d + "/hot.txt"):
    a, p = line.split()
    hot.append((int(a, 16), float(p.rstrip("%"))))
jit = [(a, p) for a, p in hot if a in text]
print("samples in JIT code: %.1f%% of all (the rest: lavapipe, the kernel, vkclr)" % sum(p for _, p in jit))
funcs = {}
for a, p in jit:
    i = next((j for j, r in enumerate(rets) if r >= a), None)
    if i is None:
        continue
    lo = rets[i - 1] + 1 if i > 0 else min(x for x, _ in ins)
    f = funcs.setdefault((lo, rets[i]), [0.0, []])
    f[0] += p
    f[1].append((p, a))
for (lo, hi), (p, pts) in sorted(funcs.items(), key=lambda x: -x[1][0]):
    if p < 0.5:
        continue
    kind = "helper" if hi - lo < 512 else "body"
    print("\n%.1f%%  %#x-%#x  %d bytes (%s)" % (p, lo, hi, hi - lo, kind))
    for q, a in sorted(pts, reverse=True)[:5]:
        print("    %5.2f%%  %#x  %s" % (q, a, text[a]))
print("\nfiles: %s (code.asm, hot.txt, perf.data)" % d)
EOF

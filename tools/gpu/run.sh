#!/bin/bash
# run.sh: the GPU check. Run it on the GPU machine from inside the folder that
# tools/gpu/bundle.sh built (gpu-bundle/): cd gpu-bundle && ./run.sh
#
# It installs the Vulkan loader from debs/ if the machine has none, picks the
# NVIDIA driver if the default finds no GPU, then runs vkclr (devices,
# bench step), the test binaries, vkclr bench ops and selftest, and the PyTorch step on
# CUDA (TF32 off and on), each under a timeout, going on after failures. All of
# it lands in one file: $OUT/report.txt, or ./report.txt when OUT is unset.
#
# Environment: BUDGET_S (the whole run's time budget in seconds, default 480), OUT, FORCE_LOADER=1
# (unpack debs/libvulkan1 and glvnd's debs into / even if present), SKIP_TORCH=1 (no PyTorch steps),
# STEPS (an extended regular expression: run only the steps whose names match, e.g. STEPS='step|test'
# to rerun the benchmarks and tests after a fix).
set -u
cd "$(dirname "$0")" || exit 1
here=$(pwd)
budget=${BUDGET_S:-480}
start=$(date +%s)
report=${OUT:-.}/report.txt
mkdir -p "$(dirname "$report")"
: >"$report"
summary=""
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

log() { echo "$*" | tee -a "$report"; }
elapsed() { echo $(($(date +%s) - start)); }

# run NAME CAP_S CMD...: runs CMD with timeout min(CAP_S, budget left), its
# stdout and stderr into the report, and one summary row.
run() {
	local name=$1 cap=$2
	shift 2
	if [ -n "${STEPS:-}" ] && ! echo "$name" | grep -Eq "$STEPS"; then
		summary="$summary$(printf '%-22s %-18s %s' "$name" "skipped (STEPS)" "-")"$'\n'
		return 0
	fi
	local left=$((budget - $(elapsed)))
	if [ "$left" -lt 5 ]; then
		log "=== $name: SKIPPED (budget of ${budget}s spent)"
		summary="$summary$(printf '%-22s %-18s %s' "$name" "skipped" "-")"$'\n'
		return 0
	fi
	local t=$cap
	[ "$t" -gt "$left" ] && t=$left
	log "=== $name (timeout ${t}s) \$ $*"
	local t0 rc ms secs status
	t0=$(date +%s%N)
	timeout -k 5 "$t" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	secs=$((ms / 1000)).$((ms % 1000 / 100))
	if [ -s "$tmp/out" ]; then { echo "--- stdout"; cat "$tmp/out"; } >>"$report"; fi
	if [ -s "$tmp/err" ]; then { echo "--- stderr"; cat "$tmp/err"; } >>"$report"; fi
	case $rc in
	0) status="ok" ;;
	124 | 137) status="TIMEOUT (rc=$rc)" ;;
	*) status="FAILED (rc=$rc)" ;;
	esac
	log "--- $name: $status in ${secs}s"
	echo >>"$report"
	summary="$summary$(printf '%-22s %-18s %s' "$name" "$status" "${secs}s")"$'\n'
	return $rc
}

log "vkclr GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ), budget ${budget}s"
log "host: $(uname -srm); $(nproc) cores"
[ -f MANIFEST ] && { echo "--- MANIFEST"; cat MANIFEST; } >>"$report"
if command -v nvidia-smi >/dev/null 2>&1; then
	run nvidia-smi 20 nvidia-smi
else
	log "nvidia-smi: not found"
fi

# The loader: Debian's libvulkan1 into / (as the device notes do), only if none is there.
if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' && [ "${FORCE_LOADER:-0}" != 1 ]; then
	log "loader: already installed: $(ldconfig -p | grep 'libvulkan\.so\.1 ' | head -1 | sed 's/.*=> //')"
else
	for f in debs/libvulkan1_*.deb; do
		[ -f "$f" ] || { log "loader: no debs/libvulkan1_*.deb in the bundle"; break; }
		if dpkg -x "$f" / && ldconfig; then log "loader: unpacked $f into /"; else log "loader: unpacking $f FAILED"; fi
	done
fi

# glvnd (libGLdispatch.so.0 and the libGL/libEGL dispatchers): NVIDIA's Vulkan driver is
# libGLX_nvidia.so.0, which links libGLdispatch; without it the loader cannot open the driver and
# vkCreateInstance answers VK_ERROR_INCOMPATIBLE_DRIVER. Into / (as the loader), only if missing.
if ldconfig -p 2>/dev/null | grep -q 'libGLdispatch\.so\.0 ' && [ "${FORCE_LOADER:-0}" != 1 ]; then
	log "glvnd: already installed"
else
	for f in debs/libglvnd0_*.deb debs/libgl1_*.deb debs/libglx0_*.deb debs/libegl1_*.deb debs/libopengl0_*.deb debs/libgles2_*.deb; do
		[ -f "$f" ] || { log "glvnd: no $f in the bundle"; continue; }
		if dpkg -x "$f" / && ldconfig; then log "glvnd: unpacked $f into /"; else log "glvnd: unpacking $f FAILED"; fi
	done
fi

# libX11 and its needs, inside the bundle and on LD_LIBRARY_PATH, only if the machine lacks it.
if ldconfig -p 2>/dev/null | grep -q 'libX11\.so\.6 '; then
	log "libX11: already installed"
else
	x11="$here/x11"
	rm -rf "$x11" && mkdir -p "$x11"
	for f in debs/libx11-6_*.deb debs/libxext6_*.deb debs/libxcb1_*.deb debs/libxau6_*.deb debs/libxdmcp6_*.deb debs/libbsd0_*.deb debs/libmd0_*.deb; do
		[ -f "$f" ] && dpkg -x "$f" "$x11"
	done
	export LD_LIBRARY_PATH="$x11/usr/lib/x86_64-linux-gnu:$x11/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	log "libX11: none installed; unpacked the bundle's into $x11 (on LD_LIBRARY_PATH)"
fi

# The validation layer for the tests: unpacked inside the bundle, never into /.
vl="$here/vl"
for f in debs/vulkan-validationlayers_*.deb; do
	[ -f "$f" ] || { log "validation layer: no .deb in the bundle (the test binaries will fail)"; break; }
	if rm -rf "$vl" && mkdir -p "$vl" && dpkg -x "$f" "$vl"; then
		log "validation layer: unpacked $f into $vl"
	else
		log "validation layer: unpacking $f FAILED"
	fi
done

# The driver: keep the default if it lists a GPU; else try the NVIDIA ICD.
has_gpu() { timeout 30 ./vkclr devices --json 2>/dev/null | grep -Eq '"type": *"(discrete|integrated|virtual)"'; }
if has_gpu; then
	log "driver: the default finds a GPU"
else
	icd=""
	for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
		[ -f "$j" ] && { icd=$j; break; }
	done
	if [ -n "$icd" ]; then
		export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
		if has_gpu; then
			log "driver: VK_DRIVER_FILES=$icd"
		else
			log "driver: $icd finds no GPU either; back to the default. The loader says why:"
			lib=$(sed -n 's/.*"library_path" *: *"\([^"]*\)".*/\1/p' "$icd" | head -1)
			{
				echo "--- $icd"; cat "$icd"
				[ -n "$lib" ] && { echo "--- ldd $lib"; ldd "$lib" 2>&1 || ldd "$(ldconfig -p | grep -F "$lib" | head -1 | sed 's/.*=> //')" 2>&1; }
				echo "--- VK_LOADER_DEBUG=error,warn,driver ./vkclr devices"
				VK_LOADER_DEBUG=error,warn,driver timeout 30 ./vkclr devices 2>&1 | tail -40
			} >>"$report"
			unset VK_DRIVER_FILES VK_ICD_FILENAMES
		fi
	else
		log "driver: the default finds no GPU and there is no nvidia_icd.json; using the default (a CPU driver, if any)"
	fi
fi
echo >>"$report"

run devices 30 ./vkclr devices

# The GPU's clocks and power through the run (one line a second), to tell a timing taken at idle
# clocks from one at full clocks: an H200 idles at 345 MHz and runs at 1980.
if command -v nvidia-smi >/dev/null 2>&1; then
	nvidia-smi dmon -s pc -o T >"$(dirname "$report")/dmon.txt" 2>&1 &
	dmon=$!
	trap 'kill $dmon 2>/dev/null; rm -rf "$tmp"' EXIT
fi

# The steps first, each with 10 untimed steps (pipelines, then clocks up from idle) and 20 timed,
# and the timed step's every command (--commands: which layer each kernel's time belongs to). With
# a vkclr-base in the bundle (bundle.sh's BASE_BIN), each step runs with it right after: an A/B in
# one call, on one machine at one temperature.
sa=(--arch resnet18 --warmup 10 --steps 20 --json)
if [ -f vkclr-base.gz ] && [ ! -x vkclr-base ]; then
	gzip -dc vkclr-base.gz >vkclr-base && chmod +x vkclr-base || log "vkclr-base.gz: could not unpack it; no A/B"
fi
# A batch sized for a GPU (SimCLR's CIFAR-10 runs use 2x256 and up): 2x64 leaves much of a GPU idle.
for wb in "64 64" "16 256" "64 256"; do
	set -- $wb
	run "bench step w$1 b$2" 60 ./vkclr bench step --width "$1" --batch-size "$2" "${sa[@]}" --commands
	if [ -x ./vkclr-base ]; then
		# (no --commands: a base from before it has no such flag)
		run "bench step w$1 b$2 base" 60 ./vkclr-base bench step --width "$1" --batch-size "$2" "${sa[@]}"
	fi
done

# The test binaries arrive gzipped (bundle.sh: the bundle must stay within 64 MiB).
for t in ops vk model; do
	if [ -f "$t.test.gz" ] && [ ! -x "$t.test" ]; then
		gzip -dc "$t.test.gz" >"$t.test" && chmod +x "$t.test" || log "$t.test.gz: could not unpack it"
	fi
done
# The tests open the device with VK_LAYER_KHRONOS_validation on: the layer from debs/.
tenv=(env "VK_LAYER_PATH=$vl/usr/share/vulkan/explicit_layer.d"
	"LD_LIBRARY_PATH=$vl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
log "tests: ${tenv[*]:1}"
run "ops.test" 120 "${tenv[@]}" ./ops.test -test.v -test.run TestOps
run "vk.test" 30 "${tenv[@]}" ./vk.test -test.v
run "model.test" 90 "${tenv[@]}" ./model.test -test.v

# Each row is a few milliseconds with host work between rows, so a GPU may not reach full clocks
# in them (dmon.txt says): read the rows against each other, and the step for the GPU's speed.
run "bench ops" 90 ./vkclr bench ops --variant gpu --json

# Both variants, every row (about 1300, a submit and wait each, CPU references on one core): 60 s
# was too short on an H200 (2026-11-30).
run selftest 150 ./vkclr selftest

left=$((budget - $(elapsed)))
[ "$left" -gt 60 ] && left=60
if [ "${SKIP_TORCH:-0}" = 1 ]; then
	log "=== torch: SKIPPED (SKIP_TORCH=1)"
elif [ -n "${STEPS:-}" ] && ! echo torch | grep -Eq "$STEPS"; then
	log "=== torch: SKIPPED (STEPS)" # before the availability check, which can take a minute
elif [ "$left" -ge 5 ] && timeout "$left" python3 -c 'import torch; assert torch.cuda.is_available()' >/dev/null 2>&1; then
	export PYTHONUNBUFFERED=1
	for tf in off on; do
		run "torch w64 b64 tf32 $tf" 45 python3 torch_step.py --device cuda --tf32 $tf --width 64 --batch-size 64 --steps 20 --warmup 5 --json
		run "torch w16 b256 tf32 $tf" 45 python3 torch_step.py --device cuda --tf32 $tf --width 16 --batch-size 256 --steps 20 --warmup 5 --json
	done
	run "torch w64 b256 tf32 off" 45 python3 torch_step.py --device cuda --tf32 off --width 64 --batch-size 256 --steps 20 --warmup 5 --json
else
	log "=== torch: SKIPPED (budget spent, or python3 -c 'import torch; assert torch.cuda.is_available()' failed)"
	summary="$summary$(printf '%-22s %-18s %s' "torch" "skipped" "-")"$'\n'
fi

{
	echo "=== summary ($(elapsed)s of ${budget}s)"
	printf '%s' "$summary"
} | tee -a "$report"
echo "report: $report"

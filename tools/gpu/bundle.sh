#!/bin/sh
# bundle.sh: builds gpu-bundle/, everything tools/gpu/run.sh needs on a Linux
# x86-64 machine with a GPU, no network and no Go:
#   vkclr                       the command (go build ./cmd/vkclr)
#   vkclr-base.gz               only with BASE_BIN=path: another build of vkclr (an earlier commit),
#                               gzipped (the bundle must stay within 64 MiB); run.sh unpacks it and
#                               times its steps beside vkclr's in the same call (A/B)
#   ops.test.gz vk.test.gz model.test.gz
#                               the test binaries (go test -c), gzipped: with vkclr-base.gz the bundle
#                               passed 64 MiB once the _x8 kernels joined every binary's SPIR-V;
#                               run.sh unpacks them
#   debs/                       Debian 12's libvulkan1 (the loader), vulkan-validationlayers
#                               (the tests run with VK_LAYER_KHRONOS_validation on) and glvnd's
#                               libraries (libglvnd0 ...), which NVIDIA's Vulkan driver loads
#   torch_step.py               the PyTorch step for comparison
#   testdata/                   model/testdata, which model.test reads from the working directory
#   run.sh                      the check itself; run it from inside the folder
#   MANIFEST                    commit, go version, build time, sha256 of each file
# Run from anywhere in the repository; it needs Go and apt-get. Exits non-zero,
# naming what failed, if any build or download fails.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=gpu-bundle
GO=${GO:-go}

say() { echo "bundle.sh: $*"; }
fail() {
	echo "bundle.sh: FAILED: $*" >&2
	echo "bundle.sh: $out/ is incomplete; do not ship it" >&2
	exit 1
}

rm -rf "$out"
mkdir -p "$out/debs"

# Stripped binaries keep the bundle small (stack traces still name functions).
ld="-s -w"
say "go build ./cmd/vkclr"
"$GO" build -trimpath -ldflags "$ld" -o "$out/vkclr" ./cmd/vkclr || fail "go build ./cmd/vkclr (errors above)"
if [ -n "${BASE_BIN:-}" ]; then
	[ -x "$BASE_BIN" ] || fail "BASE_BIN=$BASE_BIN is not an executable"
	say "vkclr-base: $BASE_BIN ($("$BASE_BIN" version 2>/dev/null | head -1))"
	gzip -9 -c "$BASE_BIN" >"$out/vkclr-base.gz" || fail "gzip $BASE_BIN"
fi
for p in ops vk model; do
	say "go test -c ./$p"
	"$GO" test -c -trimpath -ldflags "$ld" -o "$out/$p.test" "./$p" || fail "go test -c ./$p (errors above)"
	[ -x "$out/$p.test" ] || fail "go test -c ./$p wrote no binary (no test files?)"
	gzip -9 "$out/$p.test" || fail "gzip $p.test"
done

# The .debs, for amd64 whatever this machine is, through a private package list.
command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: fetch libvulkan1 and vulkan-validationlayers (Debian 12, amd64) into $out/debs by hand"
lists=${TMPDIR:-/tmp}/vkclr-apt-amd64
mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists -oAPT::Sandbox::User=root"
# libglvnd0 and friends: NVIDIA's Vulkan driver (libGLX_nvidia.so.0) needs glvnd's libGLdispatch, and
# a CUDA-only image has none (then the loader answers VK_ERROR_INCOMPATIBLE_DRIVER).
# libx11-6 and its own needs: libglx0 and NVIDIA's GLX library link libX11/libXext; run.sh unpacks
# them inside the bundle (never into /), and only where the machine has no libX11.
debs="libvulkan1 vulkan-validationlayers libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2
libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0"
say "apt-get download $debs"
# shellcheck disable=SC2086
if ! (cd "$out/debs" && apt-get $o download $debs) >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	apt-get $o update -qq || fail "apt-get update (amd64 lists in $lists)"
	# shellcheck disable=SC2086
	(cd "$out/debs" && apt-get $o download $debs) || fail "apt-get download $debs"
fi
for d in $debs; do
	ls "$out/debs/${d}_"*.deb >/dev/null 2>&1 || fail "no $d .deb in $out/debs"
done

cp tools/bench/torch_step.py tools/gpu/run.sh "$out/"
# The test binaries read their package's testdata/ from the working directory, the bundle's.
mkdir -p "$out/testdata"
cp model/testdata/* "$out/testdata/" || fail "copy model/testdata"
chmod +x "$out/run.sh" "$out/torch_step.py"

{
	echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (working tree differs from it)')"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $("$GO" version)"
	(cd "$out" && find . -type f ! -name MANIFEST | sort | sed 's|^\./||' | xargs sha256sum)
} >"$out/MANIFEST"

say "done: $out/ ($(du -sh "$out" | cut -f1)); on the GPU machine: cd $out && ./run.sh"

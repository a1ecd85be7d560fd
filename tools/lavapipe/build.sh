#!/bin/sh
# build.sh: builds Mesa 25.0.7's lavapipe (Vulkan on the CPU) against Debian 12's LLVM 19, into DIR.
#
#   tools/lavapipe/build.sh VKCLR [DIR]    # DIR defaults to build/lavapipe; VKCLR is bin/vkclr
#
# Why: Debian 12 ships Mesa 22.3.6 on LLVM 15. On an AVX-512 Xeon, Mesa 25.0.7 on LLVM 19 (the
# libllvm19 Debian 12 itself carries, 1:19.1.7-3~deb12u1) runs vkclr's training steps about 1.15-1.3x faster
# (BENCHMARKS.md, "Mesa 25.0.7 built on Debian 12's LLVM 19"), and with its fma() kept fused (the first
# of vkclr's changes to Mesa, below) another 1.12-1.24x (BENCHMARKS.md, "fused multiply-adds"); the
# others (tools/lavapipe/vkclr.patch: texel-buffer fetches inline, constant workgroup sizes) 1.09x with
# vkclr's row-per-lane GEMM (BENCHMARKS.md, "a row per lane"), and its stores and fetches of consecutive
# elements as one vector access, with vkclr's channel-a-lane transforms, 1.08-1.12x (BENCHMARKS.md, "a
# channel a lane"), and a dispatch's workgroups handed to its threads in small chunks 1.06-1.18x
# (BENCHMARKS.md, "workgroups handed out in chunks"). Mesa 25.0.7 is Debian 13's own Mesa, and
# bookworm-backports builds the same release for Debian 12, so the sources are Debian's: the release
# tarball from Debian's archive and meson 1.7.0 from bookworm-backports (Mesa 25 needs a newer meson
# than Debian 12's 1.0.1), both checked against the SHA-256 below. Only
# lavapipe is built (no OpenGL, no other driver, the X11 window system for vkclr view): about 800
# compile steps, 3-6 minutes on 2 cores. Nothing is installed into the system: the driver, its ICD
# file and the build live under DIR, and tools/lavapipe/choose.sh points the Vulkan loader at it for
# make demo and bench.
#
# The driver is then proven before anything uses it: `vkclr selftest --variant cpu` (every kernel
# vkclr runs on a CPU device, against its CPU reference) must pass on it, and say that fma() is
# fused. The proof is of this driver with this VKCLR (DIR/ok holds both, the binary by its
# SHA-256), so a rebuilt vkclr with other kernels is proven again (11.8 s with a warm pipeline
# cache) while the driver is not rebuilt (DIR/built). On success the ICD file's path is the one
# line on standard output; all else goes to standard error and DIR's logs.
#
# Build dependencies (Debian 12 packages, installed with tools/deps.sh lavapipe): LLVM 19's
# development files, Python's mako and yaml, bison, flex, ninja, the X11/xcb headers.
set -eu
vkclr=${1:?usage: build.sh VKCLR [DIR]}
dir=${2:-build/lavapipe}
mesa_ver=25.0.7
mesa_sha=592272df3cf01e85e7db300c449df5061092574d099da275d19e97ef0510f8a6
meson_deb='meson_1.7.0-1~bpo12+1_all.deb'
meson_sha=4b86d2f2cb4431d03826fa4b2c3a89508edeb8140509e7e4b285285ec3175bbe
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
llvm_config=/usr/lib/llvm-19/bin/llvm-config

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
icd=$dir/inst/share/vulkan/icd.d/lvp_icd.x86_64.json
here=$(cd "$(dirname "$0")" && pwd)
# The stamp names the patch by its digest, so a changed tools/lavapipe/vkclr.patch rebuilds the driver.
built="mesa $mesa_ver+fma+$(sha256sum <"$here/vkclr.patch" | cut -c1-12) llvm $($llvm_config --version 2>/dev/null || echo none)"
proof="$built vkclr $(sha256sum <"$vkclr" | cut -d' ' -f1)"
# prove: runs vkclr's selftest on the built driver, stamps DIR/ok and prints the ICD file's path.
prove() {
	echo "lavapipe: proving the driver: $vkclr selftest --variant cpu on it (log: $dir/selftest.log)" >&2
	if ! VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd" "$vkclr" selftest --variant cpu >"$dir/selftest.log" 2>&1; then
		tail -n 20 "$dir/selftest.log" >&2
		echo "lavapipe: vkclr's selftest failed on Mesa $mesa_ver (log: $dir/selftest.log): not used; the system's driver stays in use" >&2
		exit 1
	fi
	tail -n 1 "$dir/selftest.log" >&2
	if ! grep -q '^fma() fused' "$dir/selftest.log"; then
		grep '^fma()' "$dir/selftest.log" >&2
		echo "lavapipe: Mesa $mesa_ver built without its fused fma() (log: $dir/selftest.log): not used; the system's driver stays in use" >&2
		exit 1
	fi
	echo "$proof" >"$dir/ok"
	echo "lavapipe: Mesa $mesa_ver's lavapipe is ready: $icd" >&2
	echo "$icd"
	exit 0
}
if [ -f "$dir/ok" ] && [ "$(cat "$dir/ok")" = "$proof" ] && [ -f "$icd" ]; then
	echo "$icd"
	exit 0
fi
rm -f "$dir/ok"
if [ -f "$dir/built" ] && [ "$(cat "$dir/built")" = "$built" ] && [ -f "$icd" ]; then
	prove
fi
rm -f "$dir/built"
[ "$(uname -m)" = x86_64 ] || { echo "lavapipe: built for x86_64 only (this is $(uname -m)); the system's Mesa stays in use" >&2; exit 1; }
[ -x "$llvm_config" ] || { echo "lavapipe: $llvm_config missing: run tools/deps.sh lavapipe (as root) first" >&2; exit 1; }

# fetch NAME URL SHA: downloads once into DIR, then checks the digest (a bad or cut-short download
# is deleted, so the next run fetches it again).
fetch() {
	if [ ! -f "$dir/$1" ]; then
		echo "lavapipe: downloading $2" >&2
		curl -fsSL --retry 3 -o "$dir/$1.part" "$2" || {
			rm -f "$dir/$1.part"
			echo "lavapipe: cannot download $2 (no network to Debian's archive? set DEBIAN_MIRROR to a mirror)" >&2
			exit 1
		}
		mv "$dir/$1.part" "$dir/$1"
	fi
	if [ "$(sha256sum "$dir/$1" | cut -d' ' -f1)" != "$3" ]; then
		rm -f "$dir/$1"
		echo "lavapipe: $1 does not match its SHA-256 ($3): deleted; run again to download it anew" >&2
		exit 1
	fi
}
fetch "mesa_$mesa_ver.orig.tar.xz" "$mirror/pool/main/m/mesa/mesa_$mesa_ver.orig.tar.xz" "$mesa_sha"
fetch "$meson_deb" "$mirror/pool/main/m/meson/$meson_deb" "$meson_sha"

rm -rf "$dir/meson" "$dir/src" "$dir/build" "$dir/inst"
dpkg-deb -x "$dir/$meson_deb" "$dir/meson"
mkdir -p "$dir/src"
tar -xJf "$dir/mesa_$mesa_ver.orig.tar.xz" -C "$dir/src" --strip-components=1
# vkclr's first change to Mesa: GLSL's fma() stays one fused multiply-add. llvmpipe's NIR options lower
# every 32-bit ffma to a multiply and an add (lower_ffma32), so its code has no vfmadd and each of
# vkclr's multiply-adds costs two instructions. With the option off, an ffma reaches gallivm as
# llvm.fmuladd, which LLVM emits as one FMA instruction where the CPU has FMA (every AVX-512 CPU, and
# AVX2 ones since Haswell and Zen) and as a multiply and an add where it does not. Both are what
# GLSL.std.450's Fma allows (it need not round like a * b + c), real GPUs fuse it too, and only vkclr's
# explicit fma() calls change: a * b + c written out is not fused. Measured (BENCHMARKS.md, "fused
# multiply-adds"): lavapipe's peak 91 -> 167 GFLOP/s, the training steps 1.12-1.24x.
screen=$dir/src/src/gallium/drivers/llvmpipe/lp_screen.c
grep -q '^   \.lower_ffma32 = true,$' "$screen" || {
	echo "lavapipe: $screen has no 'lower_ffma32 = true' line to change: the patch does not apply to this Mesa" >&2
	exit 1
}
sed -i 's|^   \.lower_ffma32 = true,$|   .lower_ffma32 = false, /* vkclr: fma() stays fused (tools/lavapipe/build.sh) */|' "$screen"
# And tools/lavapipe/vkclr.patch: texel-buffer fetches inline instead of a call each, a compute
# shader's fixed workgroup size as a constant, a subgroup's stores and R32F fetches of consecutive
# elements as one vector access each, and a dispatch's workgroups handed to the threads in small chunks
# (that file's head says what and why; all keep the values the stock code gives).
patch -d "$dir/src" -p1 --quiet --forward <"$here/vkclr.patch" || {
	echo "lavapipe: $here/vkclr.patch does not apply to Mesa $mesa_ver (is patch installed? run tools/deps.sh lavapipe)" >&2
	exit 1
}
# Meson and Mesa's generators run on Debian's Python, where python3-mako lives (not a pyenv or venv first on PATH).
export PATH="/usr/bin:$PATH" PYTHONPATH="$dir/meson/usr/lib/python3/dist-packages"
printf "[binaries]\nllvm-config = '%s'\n" "$llvm_config" >"$dir/native.ini"
/usr/bin/python3 "$dir/meson/usr/bin/meson" setup "$dir/build" "$dir/src" --native-file "$dir/native.ini" \
	--prefix="$dir/inst" -Dbuildtype=release -Db_ndebug=true \
	-Dvulkan-drivers=swrast -Dgallium-drivers=llvmpipe -Dplatforms=x11 \
	-Dllvm=enabled -Dshared-llvm=enabled -Dopengl=false -Dglx=disabled -Degl=disabled -Dgbm=disabled \
	-Dgles1=disabled -Dgles2=disabled -Dvideo-codecs= -Dgallium-va=disabled -Dgallium-vdpau=disabled \
	-Dgallium-rusticl=false -Dvalgrind=disabled -Dlibunwind=disabled -Dbuild-tests=false >"$dir/setup.log" 2>&1 || {
	tail -n 20 "$dir/setup.log" >&2
	echo "lavapipe: meson setup failed (log: $dir/setup.log); a missing build dependency? run tools/deps.sh lavapipe" >&2
	exit 1
}
echo "lavapipe: compiling Mesa $mesa_ver's lavapipe (3-6 minutes on 2 cores; log: $dir/build.log)" >&2
ninja -C "$dir/build" install >"$dir/build.log" 2>&1 || {
	tail -n 20 "$dir/build.log" >&2
	echo "lavapipe: the build failed (log: $dir/build.log)" >&2
	exit 1
}
[ -f "$icd" ] || { echo "lavapipe: the build left no $icd" >&2; exit 1; }
rm -rf "$dir/build" "$dir/src"
echo "$built" >"$dir/built"
prove

#!/bin/sh
# choose.sh: picks the Vulkan driver make demo and make bench run vkclr on, and writes the choice
# to DIR/env as loader variables (empty: the system's drivers) for `env $(cat DIR/env) bin/vkclr ...`.
#
#   tools/lavapipe/choose.sh VKCLR [DIR]    # DIR defaults to build/lavapipe
#
# The rule, first match wins (LAVAPIPE is a make variable or the environment's):
#   LAVAPIPE=system                          the system's drivers
#   VK_DRIVER_FILES or VK_ICD_FILENAMES set  the system's loader settings, as the user set them
#   a GPU (any device whose type is not cpu) the system's drivers: vkclr picks the GPU
#   LAVAPIPE=build                           Mesa 25.0.7's lavapipe built here (tools/lavapipe/build.sh)
#   LAVAPIPE=auto (the default), a CPU with AVX-512
#                                            the same: measured 1.46-1.58x on such a CPU (BENCHMARKS.md)
#   otherwise                                the system's drivers (not measured faster there)
# Building needs the build dependencies (tools/deps.sh lavapipe, which installs them as root) and
# 5-11 minutes once on 2 cores, its selftest included; when it cannot happen or vkclr's selftest fails on the new driver, the
# system's drivers are used and the reason is printed: the demo never stops for it.
set -eu
vkclr=${1:?usage: choose.sh VKCLR [DIR]}
dir=${2:-build/lavapipe}
want=${LAVAPIPE:-auto}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
: >"$dir/env"
system() {
	echo "lavapipe: the system's Vulkan drivers ($1)" >&2
	exit 0
}
case "$want" in
system) system "LAVAPIPE=system" ;;
auto | build) ;;
*)
	echo "lavapipe: LAVAPIPE=$want: want auto, build or system" >&2
	exit 2
	;;
esac
if [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
	system "VK_DRIVER_FILES / VK_ICD_FILENAMES set in the environment"
fi
types=$("$vkclr" devices --json 2>/dev/null | sed -n 's/.*"type": *"\([a-z]*\)".*/\1/p' | sort -u | tr '\n' ' ')
case " $types " in
*" discrete "* | *" integrated "* | *" virtual "*) system "a GPU is present: $types" ;;
esac
if [ "$want" = auto ] && ! grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
	system "no AVX-512 on this CPU, where the built Mesa 25.0.7 gained only 1.10-1.18x imitated (BENCHMARKS.md); LAVAPIPE=build builds and uses it anyway"
fi
if ! "$here/../deps.sh" lavapipe >&2; then
	system "the build dependencies are missing (above)"
fi
if ! icd=$("$here/build.sh" "$vkclr" "$dir") || [ -z "$icd" ]; then
	system "the build of Mesa 25.0.7's lavapipe, or its proof, did not succeed (above)"
fi
echo "VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd" >"$dir/env"
echo "lavapipe: Mesa 25.0.7's lavapipe built here, on LLVM 19, fma() fused ($dir; LAVAPIPE=system for the system's)" >&2

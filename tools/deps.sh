#!/bin/sh
# deps.sh: installs what vkclr needs on Debian or Ubuntu, and only what is missing.
# Run as root (make test and make demo call it); otherwise it prints the apt-get line to run.
#   run time:    libvulkan1 (the loader), mesa-vulkan-drivers (lavapipe, a Vulkan driver on the CPU)
#   build/tests: libvulkan-dev (headers for vk/'s cgo), glslc, spirv-tools, vulkan-validationlayers, vulkan-tools
#   demo data:   dataset-fashion-mnist
#   viewer:      the argument 'viewer' (make viewer, make test): X11 and GL headers glfw builds against,
#                xvfb and x11-apps (xwd) for the viewer's tests; the default vkclr needs none of them
#   mpi:         the argument 'mpi' (make deps-mpi, make test): Open MPI for make build-mpi and its tests
#   profile:     the argument 'profile': perf, gdb and objdump for tools/prof/lavapipe-jit.sh (no build needs them)
#   lavapipe:    the argument 'lavapipe': what tools/lavapipe/build.sh needs to build Mesa 25.0.7's lavapipe
#                on Debian 12's LLVM 19 (make demo and make bench do on a CPU with AVX-512; see choose.sh)
# Extra package names may be passed as arguments.
set -eu
extra=""
for a in "$@"; do
	case "$a" in
	mpi) extra="$extra openmpi-bin libopenmpi-dev pkg-config" ;;
	profile) extra="$extra linux-perf gdb binutils" ;;
	lavapipe) extra="$extra llvm-19-dev g++ ninja-build patch pkg-config bison flex glslang-tools python3-mako python3-yaml python3-packaging curl xz-utils libexpat1-dev zlib1g-dev libzstd-dev libdrm-dev libx11-dev libx11-xcb-dev libxext-dev libxfixes-dev libxcb1-dev libxcb-dri3-dev libxcb-present-dev libxcb-shm0-dev libxcb-randr0-dev libxcb-sync-dev libxcb-xfixes0-dev libxshmfence-dev libxrandr-dev libxxf86vm-dev" ;;
	viewer) extra="$extra libx11-dev libgl-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev xvfb x11-apps" ;;
	*) extra="$extra $a" ;;
	esac
done
pkgs="libvulkan1 libvulkan-dev mesa-vulkan-drivers glslc spirv-tools vulkan-validationlayers vulkan-tools$extra"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: not a Debian/Ubuntu system; install the equivalents of:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null

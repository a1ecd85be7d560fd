#!/bin/sh
# deps.sh: installs what tools/bench/torch_step.py needs on Debian 12, and only what is missing.
# Run as root; otherwise it prints the apt-get line to run.
#   python3-torch          PyTorch 1.13.1 for /usr/bin/python3 (CPU)
#   libopenblas0-pthread   a real BLAS for it (the reference BLAS is ~100x slower)
# Extra package names may be passed as arguments.
set -eu
pkgs="python3-torch libopenblas0-pthread $*"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "bench/deps.sh: not a Debian/Ubuntu system; install the equivalents of:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "bench/deps.sh: missing packages:$missing" >&2
	echo "bench/deps.sh: run: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "bench/deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
